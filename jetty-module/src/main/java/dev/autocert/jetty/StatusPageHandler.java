package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertificateStatus;
import dev.autocert.core.StatusPage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Answers {@code autocert.status-path} with the engine's {@link StatusPage} on secure requests
 * ({@link Request#isSecure()}), in front of the handlers it wraps; every other request passes
 * through, among them the path on plain HTTP (which the HTTPS redirect behind it then sends to
 * HTTPS, on the connector Autocert added).
 *
 * <ul>
 *   <li>{@code GET} or {@code HEAD} for exactly the path (raw, any query ignored): the page as
 *       {@code application/json}, {@code Cache-Control: no-store}, {@code 200} when no certificate
 *       is expiring, {@code 503} when one is, so that a monitor probing the page alerts;</li>
 *   <li>the same while no engine runs (the server is stopping): {@code 503} and
 *       {@code {"status":"DOWN",…,"certificates":[]}};</li>
 *   <li>any other method on the path: {@code 405} with {@code Allow: GET, HEAD} and no body. The
 *       path belongs to Autocert once configured; the application never sees it on HTTPS.</li>
 * </ul>
 * Thread-safe.
 */
final class StatusPageHandler extends Handler.Wrapper {

    private static final String ALLOW = HttpMethod.GET + ", " + HttpMethod.HEAD;

    private final String path;
    private final java.util.List<String> allow;
    private final Supplier<CertificateManager> manager;
    private final Clock clock;

    /**
     * @param path    the exact raw path answered, {@code autocert.status-path}
     * @param manager the running engine at each request; {@code null} while none runs
     * @param clock   what "now" is for the page and for deciding whether a certificate is expiring
     */
    StatusPageHandler(String path, Supplier<CertificateManager> manager, Clock clock) {
        this(path, java.util.List.of("*"), manager, clock);
    }

    /** A page at {@code path} for the clients {@code allow} names ({@code autocert.status-allow}). */
    StatusPageHandler(String path, java.util.List<String> allow, Supplier<CertificateManager> manager, Clock clock) {
        this.allow = java.util.List.copyOf(allow);
        this.path = requireNonNull(path, "path");
        this.manager = requireNonNull(manager, "manager");
        this.clock = requireNonNull(clock, "clock");
    }

    private boolean allowed(Request request) {
        java.net.SocketAddress remote = request.getConnectionMetaData().getRemoteSocketAddress();
        return remote instanceof java.net.InetSocketAddress inet && StatusPage.allowed(allow, inet.getAddress());
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (!request.isSecure() || !path.equals(request.getHttpURI().getPath())) {
            return super.handle(request, response, callback);
        }
        if (!allowed(request)) {
            // autocert.status-allow does not name this client: as if there were no page
            response.setStatus(HttpStatus.NOT_FOUND_404);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
            response.write(true, null, callback);
            return true;
        }
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        String method = request.getMethod();
        if (!HttpMethod.GET.is(method) && !HttpMethod.HEAD.is(method)) {
            response.setStatus(HttpStatus.METHOD_NOT_ALLOWED_405);
            response.getHeaders().put(HttpHeader.ALLOW, ALLOW);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
            response.write(true, null, callback);
            return true;
        }
        Instant now = clock.instant();
        CertificateManager engine = manager.get();
        String json;
        boolean healthy;
        if (engine == null) {
            // Same shape as the page, so a monitor parsing it needs no special case.
            json = "{\"status\":\"DOWN\",\"time\":\"" + now + "\",\"certificates\":[]}";
            healthy = false;
        } else {
            List<CertificateStatus> statuses = engine.status();
            json = StatusPage.json(statuses, now);
            healthy = StatusPage.healthy(statuses, now);
        }
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        response.setStatus(healthy ? HttpStatus.OK_200 : HttpStatus.SERVICE_UNAVAILABLE_503);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, StatusPage.CONTENT_TYPE);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback); // Jetty drops the body of a HEAD response
        return true;
    }
}
