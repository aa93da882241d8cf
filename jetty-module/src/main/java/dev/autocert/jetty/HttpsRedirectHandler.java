package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import java.util.function.IntSupplier;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Redirects requests that arrive on the plain HTTP connector Autocert added to HTTPS, with a
 * {@code 308 Permanent Redirect} to the same host and path; requests on every other connector
 * pass through. The user asked for HTTPS, not for their application on plain HTTP: the
 * connector exists only for HTTP-01 challenges, which {@link AcmeChallengeHandler} answers
 * before this handler runs. Thread-safe.
 */
final class HttpsRedirectHandler extends Handler.Wrapper {

    private final Connector connector;
    private final IntSupplier httpsPort;

    /**
     * @param connector the plain connector whose requests are redirected
     * @param httpsPort the port to redirect to, asked at each request; 443 is left out of the URL
     */
    HttpsRedirectHandler(Connector connector, IntSupplier httpsPort) {
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
        Response.sendRedirect(request, response, callback, HttpStatus.PERMANENT_REDIRECT_308, location, true);
        return true;
    }
}
