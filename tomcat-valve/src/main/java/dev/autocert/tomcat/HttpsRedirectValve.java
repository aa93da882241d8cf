package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

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
 * {@link AcmeChallengeValve}, which answers the challenges first. Thread-safe.
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
        if (request.getConnector() != connector) {
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
}
