package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import java.util.function.IntSupplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Redirects requests that arrive on one plain HTTP connector to HTTPS, with a
 * {@code 308 Permanent Redirect} to the same host and path; requests on every other connector
 * pass through. For the connector that exists only for HTTP-01 challenges: the user asked for
 * HTTPS, not for their application on plain HTTP. Put it behind {@link AcmeChallengeHandler},
 * which answers the challenges first. Thread-safe.
 */
public final class HttpsRedirectHandler extends Handler.Wrapper {

    private final Connector connector;
    private final IntSupplier httpsPort;

    /**
     * @param connector the plain connector whose requests are redirected
     * @param httpsPort the port to redirect to, asked at each request; 443 is left out of the URL
     */
    public HttpsRedirectHandler(Connector connector, IntSupplier httpsPort) {
        this.connector = requireNonNull(connector, "connector");
        this.httpsPort = requireNonNull(httpsPort, "httpsPort");
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (request.getConnectionMetaData().getConnector() != connector) {
            return super.handle(request, response, callback);
        }
        String host = Request.getServerName(request);
        if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
            host = "[" + host + "]"; // an IPv6 literal
        }
        int port = httpsPort.getAsInt();
        String query = request.getHttpURI().getQuery();
        String location = "https://" + host + (port == 443 || port <= 0 ? "" : ":" + port)
                + request.getHttpURI().getPath() + (query == null ? "" : "?" + query);
        // Written by hand: Response.sendRedirect's signatures differ across Jetty 12.0.x releases
        // (one throws UnsupportedOperationException in 12.0.36), and a redirect needs no more.
        response.setStatus(HttpStatus.PERMANENT_REDIRECT_308);
        response.getHeaders().put(HttpHeader.LOCATION, location);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
        response.write(true, null, callback);
        return true;
    }
}
