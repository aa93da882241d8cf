package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.CertificateManager;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.StoredCertificates;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.WebServer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * What an operator hears when renewal fails near expiry, on a real server: a stored certificate
 * with five of its 90 days left, a CA that cannot be reached, so the renewal the engine starts at
 * once fails; the actuator health turns {@code DOWN} (HTTP 503) with the error, the Micrometer
 * gauge says expiring, and {@code autocert.notify-command} runs for {@code failed} and then
 * {@code expiring} with the certificate's name, while the old certificate is still served.
 */
class AlertIntegrationTest {

    @TempDir
    static Path dir;

    @Test
    void aFailingRenewalNearExpiryTurnsHealthDownAndRunsTheNotifyCommand() throws Exception {
        Path storage = dir.resolve("storage");
        Path notified = dir.resolve("notified.log");
        URI unreachable;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            unreachable = URI.create("https://127.0.0.1:" + closed.getLocalPort() + "/dir");
        }
        StoredCertificates stored = StoredCertificates.create();
        X509Certificate old = stored.store(storage, "near.example.test", unreachable, stored.issue("near.example.test",
                Instant.now().minus(Duration.ofDays(85)), Duration.ofDays(90)));

        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("autocert.domains", "near.example.test");
        properties.put("autocert.ca", unreachable.toString());
        properties.put("autocert.email", "admin@example.test");
        properties.put("autocert.agree-tos", "true");
        properties.put("autocert.storage", storage.toString());
        properties.put("autocert.notify-command", "echo \"$1 $2\" >> " + notified);
        properties.put("autocert.http-port", ServerIntegrationTestBase.freePort());
        properties.put("server.port", 0);
        properties.put("server.address", "127.0.0.1");
        properties.put("management.endpoints.web.exposure.include", "health");
        properties.put("management.endpoint.health.show-details", "always");
        properties.put("spring.autoconfigure.exclude", BootTest.NO_SECURITY);

        try (ConfigurableApplicationContext application = new SpringApplicationBuilder(ServerIntegrationTestBase.App.class)
                .properties(properties).run()) {
            WebServer server = BootTest.webServer(application);
            CertificateManager manager = application.getBean(CertificateManager.class);
            awaitLines(notified, List.of("failed near.example.test", "expiring near.example.test"));

            SSLContext trust = HttpsProbe.trusting(stored.trustStore());
            try (HttpsProbe.Connection connection = HttpsProbe.connect(trust, server.getPort(), "near.example.test")) {
                assertThat(connection.served().getSerialNumber()).as("the old certificate, still served")
                        .isEqualTo(old.getSerialNumber());
                assertThat(connection.get("/hello").status()).as("the application itself still answers").isEqualTo(200);
            }
            try (HttpsProbe.Connection connection = HttpsProbe.connect(trust, server.getPort(), "near.example.test")) {
                HttpsProbe.Response health = connection.get("/actuator/health/autocert");
                assertThat(health.status()).isEqualTo(503);
                assertThat(health.body()).contains("\"status\":\"DOWN\"", "\"problem\":\"expiring and renewal keeps failing\"",
                        "\"lastEvent\":\"EXPIRING\"", "127.0.0.1");
            }
            assertThat(manager.status()).singleElement().satisfies(status -> assertThat(status.expiring(Instant.now())).isTrue());
            io.micrometer.core.instrument.MeterRegistry registry = application.getBean(io.micrometer.core.instrument.MeterRegistry.class);
            assertThat(registry.get("autocert.certificate.expiring").tag("certificate", "near.example.test").gauge().value())
                    .isEqualTo(1.0);
        }
    }

    private static void awaitLines(Path file, List<String> expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readAllLines(file).containsAll(expected)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("autocert.notify-command did not write " + expected + " within 60 s; it wrote: "
                + (Files.exists(file) ? Files.readAllLines(file) : "nothing") + ". The engine's threads now:\n"
                + TestAutocert.engineThreads());
    }
}
