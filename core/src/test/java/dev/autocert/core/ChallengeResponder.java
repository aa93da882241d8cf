package dev.autocert.core;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real HTTP server on 127.0.0.1 where Pebble validates HTTP-01, answering from the tokens of
 * every registered engine: what a server adapter does, without a server.
 */
final class ChallengeResponder implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

    /**
     * A responder for a test class, listening on {@code pebble}'s HTTP-01 port from before the
     * class's tests until after them; register it after the Pebble:
     * {@code @RegisterExtension static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);}
     */
    static ChallengeResponder forClass(dev.autocert.testkit.PebbleServer pebble) {
        return new ChallengeResponder(pebble);
    }

    private dev.autocert.testkit.PebbleServer pebble;

    private ChallengeResponder(dev.autocert.testkit.PebbleServer pebble) {
        this.pebble = pebble;
        this.delayMillis = 0;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        for (InetAddress address : List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1"))) {
            servers.add(listen(address, pebble.httpPort()));
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
        servers.clear();
    }

    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private final List<Http01Tokens> sources = new CopyOnWriteArrayList<>();

    private final long delayMillis;
    private final java.util.concurrent.atomic.AtomicInteger turn = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean alternating;
    private final java.util.Map<Integer, java.util.concurrent.atomic.AtomicInteger> answered = new java.util.concurrent.ConcurrentHashMap<>();

    /** With {@link #alternating()}: how many challenge requests the {@code index}th engine served answered (200). */
    int answered(int index) {
        java.util.concurrent.atomic.AtomicInteger count = answered.get(index);
        return count == null ? 0 : count.get();
    }

    /**
     * Sends each request to one engine in turn and answers only from its tokens, as a
     * round-robin balancer in front of a cluster does.
     */
    ChallengeResponder alternating() {
        this.alternating = true;
        return this;
    }

    ChallengeResponder(int port) throws IOException {
        this(port, java.time.Duration.ZERO);
    }

    /** A responder that answers each request after {@code delay}, as a slow server does, so that validation takes that long. */
    ChallengeResponder(int port, java.time.Duration delay) throws IOException {
        this.delayMillis = delay.toMillis();
        // 127.0.0.1 for names, which Pebble's DNS resolves there, and ::1 for IPv6 certificates
        for (InetAddress address : List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1"))) {
            servers.add(listen(address, port));
        }
    }

    private HttpServer listen(InetAddress address, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 16);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getRawPath();
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Optional<String> body;
            if (alternating) { // one node per request
                int node = Math.floorMod(turn.getAndIncrement(), sources.size());
                body = sources.get(node).respond(path);
                if (body.isPresent()) {
                    answered.computeIfAbsent(node, n -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
                }
            } else {
                body = sources.stream().map(t -> t.respond(path)).flatMap(Optional::stream).findFirst();
            }
            byte[] bytes = body.orElse("").getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(body.isPresent() ? 200 : 404, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        return server;
    }

    /** Answers the challenges of {@code manager} too. */
    CertificateManager serve(CertificateManager manager) {
        sources.add(manager.http01Tokens());
        return manager;
    }

    @Override
    public void close() {
        servers.forEach(server -> server.stop(0));
    }
}
