package dev.autocert.spring;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.autocert.core.Http01Tokens;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationContextException;
import org.springframework.context.SmartLifecycle;

/**
 * The plain HTTP listener on {@code autocert.http-port} for web servers the starter cannot add a
 * connector to (WebFlux on Reactor Netty, Undertow): a small server of its own, the JDK's, which
 * answers the CA's HTTP-01 challenges from the engine's tokens and sends everything else to
 * HTTPS with {@code 308 Permanent Redirect}, so no {@code WebFilter}, servlet filter or Spring
 * Security ever sees a challenge or a plain request. Bad challenge requests get a plain 404,
 * other methods on the challenge path 405, malformed {@code Host} headers 400.
 *
 * <p>Listens only once {@link #listenFor} was called for the application's server, from the
 * context's start (after the web server, before the engine orders) to its stop. Thread-safe.
 */
final class ChallengeListener implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(ChallengeListener.class);
    /** A host name or an IPv4 address, then an optional port: what a Location may carry. */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?");
    private static final Pattern IPV6_HOST = Pattern.compile("\\[[0-9A-Fa-f:.]{2,45}\\](?::[0-9]{1,5})?");
    /**
     * Challenges and redirects are answered from memory: a few threads and a bounded queue; past
     * it the JDK's dispatcher thread answers itself, which slows accepting, never drops.
     */
    private static final int THREADS = 4;
    private static final int QUEUE = 1_000;

    private final Http01Tokens tokens;
    private final int port;
    private final IntSupplier httpsPort;
    private volatile InetAddress address;
    private volatile boolean wanted;
    private HttpServer server;
    private ExecutorService executor;

    /**
     * @param port      {@code autocert.http-port}
     * @param httpsPort the port HTTPS is served on, asked at each redirect; 443 is left out of the URL
     */
    ChallengeListener(Http01Tokens tokens, int port, IntSupplier httpsPort) {
        this.tokens = requireNonNull(tokens, "tokens");
        this.port = port;
        this.httpsPort = requireNonNull(httpsPort, "httpsPort");
    }

    /** Asks for the listener, on {@code address} ({@code server.address}; every address when null). */
    void listenFor(InetAddress address) {
        this.address = address;
        this.wanted = true;
    }

    @Override
    public synchronized void start() {
        if (!wanted || server != null) {
            return;
        }
        InetSocketAddress bind = address == null ? new InetSocketAddress(port) : new InetSocketAddress(address, port);
        try {
            server = HttpServer.create(bind, 64);
        } catch (IOException e) {
            throw new ApplicationContextException("Cannot listen for HTTP-01 challenges on " + bind + " (autocert.http-port="
                    + port + "): " + e.getMessage() + ". Free the port, or set autocert.http-port to a port the CA's "
                    + "validation reaches (forwarded from 80), or use autocert.challenges=dns-01", e);
        }
        AtomicInteger threads = new AtomicInteger();
        executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(QUEUE), r -> {
            Thread thread = new Thread(r, "autocert-http-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        ((ThreadPoolExecutor) executor).allowCoreThreadTimeOut(true);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
        LOG.info("Answering HTTP-01 challenges on {} (autocert.http-port), everything else redirected to HTTPS",
                server.getAddress());
    }

    @Override
    public synchronized void stop() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
            server = null;
            executor = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return server != null;
    }

    /** Starts after the web server, before the engine orders ({@link AutocertLifecycle}); stops after it. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 1;
    }

    /** The port it listens on, once started: {@code autocert.http-port}, or the one chosen for port 0. */
    synchronized int localPort() {
        return server == null ? -1 : server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            if (Http01Tokens.isChallengePath(path)) {
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    exchange.sendResponseHeaders(405, -1);
                    return;
                }
                Optional<String> answer = tokens.respond(path);
                if (answer.isEmpty()) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                byte[] body = answer.get().getBytes(StandardCharsets.US_ASCII);
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                if (method.equals("HEAD")) {
                    exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
                    exchange.sendResponseHeaders(200, -1);
                } else {
                    exchange.sendResponseHeaders(200, body.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(body);
                    }
                }
                return;
            }
            Optional<String> location = location(exchange.getRequestHeaders().getFirst("Host"), exchange.getRequestURI());
            if (location.isEmpty()) {
                exchange.sendResponseHeaders(400, -1);
                return;
            }
            exchange.getResponseHeaders().set("Location", location.get());
            exchange.sendResponseHeaders(308, -1);
        }
    }

    /** {@code https://} the request's host, on the HTTPS port, with its path and query; empty for a bad host. */
    Optional<String> location(String hostHeader, URI uri) {
        if (hostHeader == null || !(HOST.matcher(hostHeader).matches() || IPV6_HOST.matcher(hostHeader).matches())) {
            return Optional.empty();
        }
        int colon = hostHeader.lastIndexOf(':');
        String host = colon > hostHeader.lastIndexOf(']') ? hostHeader.substring(0, colon) : hostHeader;
        int https = httpsPort.getAsInt();
        String query = uri.getRawQuery();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return Optional.of("https://" + host + (https == 443 || https <= 0 ? "" : ":" + https) + path
                + (query == null ? "" : "?" + query));
    }
}
