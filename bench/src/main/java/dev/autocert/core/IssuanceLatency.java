package dev.autocert.core;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.testkit.PebbleServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Order start to new certificate served, against a local Pebble that validates HTTP-01 for real:
 * {@code renew()} until the key manager serves the new certificate, N times; prints the median.
 * {@code java -cp bench/target/benchmarks.jar dev.autocert.core.IssuanceLatency 30}
 */
public final class IssuanceLatency {

    private IssuanceLatency() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        try (PebbleServer pebble = PebbleServer.builder().build()) {
            pebble.start();
            HttpServer responder = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), pebble.httpPort()), 16);
            Path storage = Files.createTempDirectory("autocert-latency-");
            AutocertSettings settings = AutocertSettings.builder().properties(pebble.autocertProperties())
                    .domains("latency.example.test").storage(storage).build();
            try (CertificateManager manager = CertificateManager.builder(settings).build()) {
                responder.createContext("/", exchange -> {
                    Optional<String> body = manager.http01Tokens().respond(exchange.getRequestURI().getRawPath());
                    byte[] bytes = body.orElse("").getBytes(StandardCharsets.US_ASCII);
                    exchange.sendResponseHeaders(body.isPresent() ? 200 : 404, bytes.length == 0 ? -1 : bytes.length);
                    exchange.getResponseBody().write(bytes);
                    exchange.close();
                });
                responder.start();
                manager.start();
                manager.renew("latency.example.test").get(60, TimeUnit.SECONDS); // warm-up: account, first order
                List<Long> millis = new ArrayList<>();
                for (int i = 0; i < rounds; i++) {
                    long start = System.nanoTime();
                    CertifiedKey issued = manager.renew("latency.example.test").get(60, TimeUnit.SECONDS);
                    if (!manager.certificates().contains(issued)) {
                        throw new IllegalStateException("not served: " + issued);
                    }
                    millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                }
                Collections.sort(millis);
                System.out.printf("order start to new certificate served, %d rounds: median %d ms, min %d ms, max %d ms%n",
                        rounds, millis.get(rounds / 2), millis.get(0), millis.get(rounds - 1));
            } finally {
                responder.stop(0);
            }
        }
    }
}
