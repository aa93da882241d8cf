package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Adds {@code Strict-Transport-Security} ({@code autocert.hsts}) to every response to a secure
 * request ({@link Request#isSecure()}: an HTTPS connector, or one marked {@code secure="true"}
 * behind a TLS proxy); plain HTTP responses never carry it (RFC 6797, section 7.2). The header is
 * set before the next valve runs, so that applications' responses, Tomcat's error pages and
 * {@code autocert.status-path} all carry it, and set again afterwards should an application have
 * reset the response. {@link AutocertListener} and {@link AutocertTomcat#install} add one to the
 * engine when the setting is present; the Spring Boot starter does the same. Thread-safe.
 */
public final class HstsValve extends ValveBase {

    /** The header's name. */
    static final String HEADER = "Strict-Transport-Security";

    private final String value;

    /**
     * @param value the header's value, {@code AutocertSettings.hsts()}, such as {@code max-age=31536000}
     */
    public HstsValve(String value) {
        super(true);
        this.value = requireNonNull(value, "value");
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (!request.isSecure()) {
            getNext().invoke(request, response);
            return;
        }
        response.setHeader(HEADER, value);
        getNext().invoke(request, response);
        if (!request.isAsync() && !response.isCommitted() && response.getHeader(HEADER) == null) {
            response.setHeader(HEADER, value); // the application called reset()
        }
    }
}
