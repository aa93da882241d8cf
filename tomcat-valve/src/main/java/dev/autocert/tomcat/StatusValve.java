package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertificateStatus;
import dev.autocert.core.StatusPage;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Answers {@code autocert.status-path} on secure requests with the engine's {@link StatusPage},
 * before any web application sees the path: {@code GET} and {@code HEAD} get the JSON page,
 * {@code 200} while every certificate is healthy and {@code 503} while one is expiring, with
 * {@code Cache-Control: no-store}; other methods get an empty {@code 405} with {@code Allow: GET,
 * HEAD}, since the path is Autocert's. The path matches the raw request URI exactly (a query
 * string is ignored; a trailing slash or a {@code ;parameter} does not match).
 *
 * <p>Plain HTTP requests, whatever their path, and requests Tomcat has already rejected go to the
 * next valve: the page is only for HTTPS ({@link Request#isSecure()}: an HTTPS connector, or one
 * marked {@code secure="true"} behind a TLS proxy). {@link AutocertListener} and {@link
 * AutocertTomcat#install} add one to the engine when the setting is present. Thread-safe.
 */
final class StatusValve extends ValveBase {

    private final String path;
    private final CertificateManager manager;

    StatusValve(String path, CertificateManager manager) {
        super(true);
        this.path = requireNonNull(path, "path");
        this.manager = requireNonNull(manager, "manager");
    }

    private boolean allowed(String remoteAddress) {
        try {
            // Tomcat gives the address as a literal: no DNS lookup happens here.
            return remoteAddress != null && StatusPage.allowed(manager.settings().statusAllow(),
                    java.net.InetAddress.getByName(remoteAddress));
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (!request.isSecure() || !path.equals(request.getRequestURI()) || response.isError()
                || response.getStatus() >= 400 || response.isCommitted()) {
            getNext().invoke(request, response);
            return;
        }
        if (!allowed(request.getRemoteAddr())) {
            // autocert.status-allow does not name this client: as if there were no page
            response.resetBuffer();
            response.setStatus(HttpServletResponse.SC_NOT_FOUND);
            response.setContentLength(0);
            response.finishResponse();
            return;
        }
        String method = request.getMethod();
        boolean head = "HEAD".equals(method);
        response.resetBuffer();
        response.setHeader("Cache-Control", "no-store");
        if (!head && !"GET".equals(method)) {
            response.setStatus(HttpServletResponse.SC_METHOD_NOT_ALLOWED);
            response.setHeader("Allow", "GET, HEAD");
            response.setContentLength(0);
            response.finishResponse();
            return;
        }
        Instant now = Instant.now();
        List<CertificateStatus> statuses = manager.status();
        byte[] body = StatusPage.json(statuses, now).getBytes(StandardCharsets.UTF_8);
        response.setStatus(StatusPage.healthy(statuses, now) ? HttpServletResponse.SC_OK
                : HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        response.setContentType(StatusPage.CONTENT_TYPE);
        response.setContentLength(body.length);
        if (!head) {
            response.getOutputStream().write(body);
        }
        response.finishResponse();
    }
}
