package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.Http01Tokens;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Answers ACME HTTP-01 challenges ({@code /.well-known/acme-challenge/{token}}, RFC 8555
 * section 8.3) in front of the handlers it wraps, and passes every other request through.
 *
 * <p>A {@code GET} or {@code HEAD} for a token being validated now gets {@code 200}, {@code
 * text/plain} and the key authorization. Anything else under the challenge prefix gets a plain
 * {@code 404} with an empty body: an unknown token, a malformed one (characters outside
 * base64url, too long, {@code ..}, encoded slashes, sub-paths), and any other method, so that
 * nothing about the challenges is revealed and no application handler sees the prefix. The
 * token is checked on the raw, undecoded path by {@link Http01Tokens#respond(String)}. (Under
 * Jetty's default URI compliance some malformed paths, such as {@code %2F} or {@code %2E%2E},
 * never reach a handler: Jetty answers them with 400 itself, on every path.)
 *
 * <p>Ordinary requests cost one {@code String.startsWith}. Thread-safe.
 * {@link AutocertJetty#install} puts one in front of every context; build one yourself only when
 * you run a {@link dev.autocert.core.CertificateManager} of your own.
 */
public final class AcmeChallengeHandler extends Handler.Wrapper {

    private static final String TEXT_PLAIN = "text/plain; charset=US-ASCII";

    private final Supplier<Http01Tokens> tokens;

    /** A handler answering from {@code tokens}, usually {@code manager.http01Tokens()}. */
    public AcmeChallengeHandler(Http01Tokens tokens) {
        requireNonNull(tokens, "tokens");
        this.tokens = () -> tokens;
    }

    /**
     * A handler answering from whatever tokens {@code tokens} gives at each challenge request;
     * {@code null} means no engine runs now, and every challenge request gets a 404.
     */
    AcmeChallengeHandler(Supplier<Http01Tokens> tokens) {
        this.tokens = requireNonNull(tokens, "tokens");
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String rawPath = request.getHttpURI().getPath();
        if (!Http01Tokens.isChallengePath(rawPath)) {
            return super.handle(request, response, callback);
        }
        String method = request.getMethod();
        Optional<String> keyAuthorization = Optional.empty();
        if (HttpMethod.GET.is(method) || HttpMethod.HEAD.is(method)) {
            Http01Tokens current = tokens.get();
            if (current != null) {
                keyAuthorization = current.respond(rawPath);
            }
        }
        if (keyAuthorization.isEmpty()) {
            // Plain 404 without Jetty's error page, which would echo the path.
            response.setStatus(HttpStatus.NOT_FOUND_404);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
            response.write(true, null, callback);
            return true;
        }
        byte[] body = keyAuthorization.get().getBytes(StandardCharsets.US_ASCII);
        response.setStatus(HttpStatus.OK_200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, TEXT_PLAIN);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body), callback); // Jetty drops the body of a HEAD response
        return true;
    }
}
