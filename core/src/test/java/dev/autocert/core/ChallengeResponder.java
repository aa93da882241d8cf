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

/**
 * A real HTTP server on 127.0.0.1 where Pebble validates HTTP-01, answering from the tokens of
 * every registered engine: what a server adapter does, without a server.
 */
final class ChallengeResponder implements AutoCloseable {

    private final HttpServer server;
    private final List<Http01Tokens> sources = new CopyOnWriteArrayList<>();

    ChallengeResponder(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getRawPath();
            Optional<String> body = sources.stream().map(t -> t.respond(path)).flatMap(Optional::stream).findFirst();
            byte[] bytes = body.orElse("").getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(body.isPresent() ? 200 : 404, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
    }

    /** Answers the challenges of {@code manager} too. */
    CertificateManager serve(CertificateManager manager) {
        sources.add(manager.http01Tokens());
        return manager;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
