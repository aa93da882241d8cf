package dev.autocert.spring;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.Http01Tokens;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.time.Duration;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationContextException;
import org.springframework.context.SmartLifecycle;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The plain HTTP listener on {@code autocert.http-port} for WebFlux on Reactor Netty, whose
 * server Spring Boot binds to one port only: a second Reactor Netty server, on the application's
 * event loops, that gives {@link PlainHttpAnswers}' answers (HTTP-01 challenges, 308 to HTTPS),
 * so no {@code WebFilter} or Spring Security ever sees a challenge or a plain request. Slow
 * clients hold no thread (Netty is non-blocking) and are cut off after {@value #TIMEOUT_SECONDS}
 * seconds without a complete request.
 *
 * <p>Listens once {@link #listenFor} was called for the application's server, from the
 * context's start (after the web server, before the engine orders) to its stop, or its
 * destruction when start-up fails later. Thread-safe.
 */
final class NettyChallengeListener implements SmartLifecycle, DisposableBean {

    private static final Logger LOG = LoggerFactory.getLogger(NettyChallengeListener.class);
    private static final int TIMEOUT_SECONDS = 10;
    private static final Duration TIMEOUT = Duration.ofSeconds(TIMEOUT_SECONDS);

    private final Http01Tokens tokens;
    private final int port;
    private InetAddress address;
    /** What it answers; null until the listener is asked for. */
    private PlainHttpAnswers answers;
    private DisposableServer server;

    /** @param port {@code autocert.http-port} */
    NettyChallengeListener(Http01Tokens tokens, int port) {
        this.tokens = requireNonNull(tokens, "tokens");
        this.port = port;
    }

    /**
     * Asks for the listener.
     *
     * @param address   {@code server.address}; every address when null
     * @param httpsPort where redirects go, asked at each: the port the application serves HTTPS
     *                  on, or 443 when it serves plain HTTP behind something that does TLS
     */
    synchronized void listenFor(InetAddress address, IntSupplier httpsPort) {
        this.address = address;
        this.answers = new PlainHttpAnswers(tokens, httpsPort);
    }

    @Override
    public synchronized void start() {
        if (answers == null || server != null) {
            return;
        }
        PlainHttpAnswers current = answers;
        HttpServer http = HttpServer.create().port(port).readTimeout(TIMEOUT).requestTimeout(TIMEOUT)
                .idleTimeout(Duration.ofSeconds(30)).handle((request, response) -> handle(current, request, response));
        if (address != null) {
            http = http.host(address.getHostAddress());
        }
        try {
            server = http.bindNow();
        } catch (RuntimeException e) {
            throw new ApplicationContextException("Cannot listen for HTTP-01 challenges on "
                    + (address == null ? "" : address.getHostAddress()) + " port " + port + " (autocert.http-port=" + port
                    + "): " + e.getMessage() + ". Free the port, or set autocert.http-port to a port the CA's validation "
                    + "reaches (forwarded from 80), or use autocert.challenges=dns-01", e);
        }
        LOG.info("Answering HTTP-01 challenges on {} (autocert.http-port), everything else redirected to HTTPS",
                server.address());
    }

    private static Mono<Void> handle(PlainHttpAnswers answers, HttpServerRequest request, HttpServerResponse response) {
        String uri = request.uri();
        int query = uri.indexOf('?');
        PlainHttpAnswers.Answer answer = answers.answer(request.method().name(), query < 0 ? uri : uri.substring(0, query),
                query < 0 ? null : uri.substring(query + 1), request.requestHeaders().get("Host"));
        response.status(HttpResponseStatus.valueOf(answer.status()));
        if (answer.location() != null) {
            response.header("Location", answer.location());
        }
        if (answer.allow() != null) {
            response.header("Allow", answer.allow());
        }
        if (answer.body().length == 0) {
            return response.header("Content-Length", "0").send();
        }
        response.header("Content-Type", "application/octet-stream");
        return response.sendByteArray(Mono.just(answer.body())).then();
    }

    @Override
    public synchronized void stop() {
        if (server != null) {
            server.disposeNow(Duration.ofSeconds(5));
            server = null;
        }
    }

    @Override
    public void destroy() {
        stop();
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
        return server == null ? -1 : server.port();
    }
}
