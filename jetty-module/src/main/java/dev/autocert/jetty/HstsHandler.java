package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Adds {@code Strict-Transport-Security} ({@code autocert.hsts}, RFC 6797) to every response to a
 * secure request ({@link Request#isSecure()}: one that came in over TLS) that passes through it;
 * responses on plain HTTP never carry it (RFC 6797 section 7.2).
 *
 * <p>"Every response" includes the application's own, the {@code 404} Jetty writes when no
 * handler answers, and the error page Jetty writes when a handler throws or fails its callback,
 * which starts again from empty headers: the header is added as the response is committed (by
 * {@link HttpStream#prepareResponse}), not when the request arrives. A response that already has
 * a {@code Strict-Transport-Security} header of its own (the application's, or Jetty's {@code
 * SecureRequestCustomizer} with {@code stsMaxAge}) keeps it. Interim {@code 1xx} responses carry
 * none. Put it in front of every other handler; {@link AutocertJetty#install} does that itself.
 * Thread-safe.
 */
public final class HstsHandler extends Handler.Wrapper {

    private final HttpField field;

    /**
     * A handler adding {@code Strict-Transport-Security: value}.
     *
     * @param value the header's value, such as {@code max-age=31536000} (what
     *              {@code AutocertSettings.hsts()} gives)
     * @throws IllegalArgumentException when {@code value} is blank or holds control characters
     */
    public HstsHandler(String value) {
        requireNonNull(value, "value");
        if (value.isBlank() || value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("Strict-Transport-Security: expected a value such as max-age=31536000 but was '"
                    + value.replaceAll("\\p{Cntrl}", "?") + "'");
        }
        this.field = new PreEncodedHttpField(HttpHeader.STRICT_TRANSPORT_SECURITY, value);
    }

    /** The header's value. */
    public String value() {
        return field.getValue();
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (request.isSecure()) {
            request.addHttpStreamWrapper(stream -> new HttpStream.Wrapper(stream) {
                @Override
                public void prepareResponse(HttpFields.Mutable headers) {
                    super.prepareResponse(headers);
                    if (!headers.contains(HttpHeader.STRICT_TRANSPORT_SECURITY)) {
                        headers.add(field);
                    }
                }
            });
        }
        return super.handle(request, response, callback);
    }
}
