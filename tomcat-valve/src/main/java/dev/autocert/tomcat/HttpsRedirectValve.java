package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.Http01Tokens;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.util.function.IntSupplier;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Redirects requests that arrive on one plain HTTP connector to HTTPS, with a
 * {@code 308 Permanent Redirect} to the same host, path and query; requests on every other
 * connector pass through. For the connector that exists only for HTTP-01 challenges: the user
 * asked for HTTPS, not for their application on plain HTTP. Add it to the {@code Engine} after
 * {@link AcmeChallengeValve}, which answers the challenges first.
 *
 * <p>Two kinds of request on that connector are never redirected and go to the next valve:
 * those under {@code /.well-known/acme-challenge/}, for the challenge valve wherever it stands,
 * and those Tomcat has already rejected (an invalid request target such as {@code /%2e%2e/} or
 * {@code /%zz}, a bad {@code Host} header, an absolute-form target it cannot parse), which so get
 * Tomcat's own {@code 400} rather than a redirect built from parts Tomcat refused. Thread-safe.
 */
public final class HttpsRedirectValve extends ValveBase {

    private final Connector connector;
    private final IntSupplier httpsPort;

    /**
     * @param connector the plain connector whose requests are redirected
     * @param httpsPort the port to redirect to, asked at each request (it may be known only once
     *                  the server runs); 443 is left out of the URL
     */
    public HttpsRedirectValve(Connector connector, IntSupplier httpsPort) {
        super(true);
        this.connector = requireNonNull(connector, "connector");
        this.httpsPort = requireNonNull(httpsPort, "httpsPort");
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (request.getConnector() != connector || rejected(response)
                || Http01Tokens.isChallengePath(request.getRequestURI())) {
            getNext().invoke(request, response);
            return;
        }
        String host = request.getServerName();
        if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
            host = "[" + host + "]"; // an IPv6 literal
        }
        int port = httpsPort.getAsInt();
        String query = request.getQueryString();
        String location = "https://" + host + (port == 443 || port <= 0 ? "" : ":" + port)
                + request.getRequestURI() + (query == null ? "" : "?" + query);
        response.resetBuffer();
        response.setStatus(308);
        response.setHeader("Location", location);
        response.setContentLength(0);
        response.finishResponse();
    }

    /**
     * Whether Tomcat rejected the request before any valve ran: it still passes such a request
     * through the engine, so that its error page is shown, with the error already set (an invalid
     * URI) or only the status (a request line or header it could not parse).
     */
    private static boolean rejected(Response response) {
        return response.isError() || response.getStatus() >= 400;
    }
}
