package dev.autocert.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.autocert.core.Http01Tokens;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Certbot's standalone authenticator: a small HTTP server on {@code autocert.http-port} (80
 * unless set) that answers {@code GET /.well-known/acme-challenge/TOKEN} from the HTTP-01 tokens
 * of the engines it is given, and 404 to everything else. It runs only while a run orders
 * certificates, so port 80 must be free then (a {@code --pre-hook} can stop the web server that
 * holds it). Thread-safe.
 */
final class StandaloneResponder implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Http01Tokens> tokens = new CopyOnWriteArrayList<>();
    private final Console console;

    private StandaloneResponder(HttpServer server, ExecutorService executor, Console console) {
        this.server = server;
        this.executor = executor;
        this.console = console;
    }

    /**
     * Listens on {@code port}, on every address, as Certbot's standalone server does.
     *
     * @throws Failures.CommandFailure naming {@code autocert.http-port} when the port cannot be had
     */
    static StandaloneResponder start(int port, Console console) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(port), 16);
        } catch (BindException e) {
            String reason = e.getMessage() != null ? e.getMessage() : "cannot bind";
            String fix = reason.contains("ermission") && port < 1024
                    ? "ports below 1024 need root or CAP_NET_BIND_SERVICE: run as root, or"
                    : "stop the web server that holds it (a --pre-hook can), answer through it with --webroot PATH, or";
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "autocert.http-port: cannot listen on port " + port
                    + " to answer http-01 (" + reason + "); " + fix + " set --http-port to a port the CA's requests reach");
        } catch (IOException e) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "autocert.http-port: cannot listen on port " + port + " to answer http-01 ("
                    + e + ")");
        }
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread thread = new Thread(r, "autocert-standalone");
            thread.setDaemon(true);
            return thread;
        });
        StandaloneResponder responder = new StandaloneResponder(server, executor, console);
        server.createContext("/", responder::handle);
        server.setExecutor(executor);
        server.start();
        console.progress("Answering http-01 challenges on port " + server.getAddress().getPort());
        return responder;
    }

    /** Answers the challenges of {@code engineTokens} too, from now on. */
    void answer(Http01Tokens engineTokens) {
        if (!tokens.contains(engineTokens)) {
            tokens.add(engineTokens);
        }
    }

    /** The port it listens on. */
    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String rawPath = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            Optional<String> body = Optional.empty();
            if (method.equals("GET") || method.equals("HEAD")) {
                for (Http01Tokens t : tokens) {
                    body = t.respond(rawPath);
                    if (body.isPresent()) {
                        break;
                    }
                }
            }
            if (body.isEmpty()) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            String host = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Host")).orElse("?").replaceFirst(":\\d+$", "");
            console.progress("The CA fetched the http-01 challenge for " + host);
            byte[] bytes = body.get().getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
