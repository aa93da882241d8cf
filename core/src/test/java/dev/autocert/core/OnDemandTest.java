package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.testkit.PebbleServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * On-demand TLS against a real Pebble: a name not configured gets a certificate at its first
 * real handshake when the policy allows it, and a refused name is never ordered.
 */
class OnDemandTest {

    private static final String CONFIGURED = "configured.example.test";

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);

    @TempDir
    Path storage;

    private CertificateManager start(AutocertSettings.Builder settings, Duration wait, int perMinute) throws Exception {
        CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings.storage(storage).build())
                .onDemandWait(wait).onDemandOrdersPerMinute(perMinute).build());
        manager.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (manager.certificate(CONFIGURED).orElseThrow().placeholder() && System.nanoTime() < deadline) {
            Thread.sleep(50); // the configured certificate first, so that order counts below are the on-demand ones
        }
        return manager;
    }

    private static List<String> names(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().map(san -> String.valueOf(san.get(1))).toList();
    }

    @Test
    void anAllowedNameIsServedItsOwnCertificateAtItsFirstHandshake() throws Exception {
        String name = "a.shop.example.test";
        long orders;
        try (CertificateManager manager = start(PebbleFixtures.settings(PEBBLE, storage, CONFIGURED).onDemand("*.shop.example.test"),
                Duration.ofSeconds(30), 10);
                LoopbackTlsServer server = new LoopbackTlsServer(manager.keyManager())) {
            orders = PEBBLE.countLogLines("POST /order-plz");
            X509Certificate served = server.served(name);
            assertEquals(List.of(name), names(served), "issued while the first handshake waited");
            Chains.verify(List.of(served, PEBBLE.intermediates().get(0)), PEBBLE.issuingRoot());
            assertEquals(orders + 1, PEBBLE.countLogLines("POST /order-plz"));
            assertEquals(served, server.served(name), "and served again without another order");
            assertEquals(orders + 1, PEBBLE.countLogLines("POST /order-plz"));
            assertTrue(manager.status().stream().anyMatch(s -> s.name().equals(name) && !s.served().placeholder()));
        }
        // After a restart it comes from storage, without an order.
        try (CertificateManager manager = start(PebbleFixtures.settings(PEBBLE, storage, CONFIGURED).onDemand("*.shop.example.test"),
                Duration.ofSeconds(30), 10);
                LoopbackTlsServer server = new LoopbackTlsServer(manager.keyManager())) {
            assertEquals(List.of(name), names(server.served(name)));
            assertEquals(orders + 1, PEBBLE.countLogLines("POST /order-plz"));
        }
    }

    @Test
    void aRefusedNameGetsTheDefaultCertificateAndIsNeverOrdered() throws Exception {
        long orders;
        try (CertificateManager manager = start(PebbleFixtures.settings(PEBBLE, storage, CONFIGURED).onDemand("*.shop.example.test"),
                Duration.ofSeconds(30), 10);
                LoopbackTlsServer server = new LoopbackTlsServer(manager.keyManager())) {
            orders = PEBBLE.countLogLines("POST /order-plz");
            X509Certificate defaultCertificate = server.served(null);
            for (String refused : List.of("evil.example.test", "a.b.shop.example.test", "shop.example.test")) {
                assertEquals(defaultCertificate, server.served(refused), refused);
            }
            Thread.sleep(1500); // a scheduler tick: nothing was queued either
        }
        assertEquals(orders, PEBBLE.countLogLines("POST /order-plz"));
    }

    @Test
    void theAskEndpointDecides() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        HttpServer ask = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        ask.createContext("/check", exchange -> {
            String query = exchange.getRequestURI().getQuery();
            asked.add(query);
            exchange.sendResponseHeaders(query.equals("domain=yes.example.test") ? 200 : 403, -1);
            exchange.close();
        });
        ask.start();
        long orders;
        try (CertificateManager manager = start(PebbleFixtures.settings(PEBBLE, storage, CONFIGURED)
                        .onDemandAsk("http://127.0.0.1:" + ask.getAddress().getPort() + "/check"), Duration.ofSeconds(30), 10);
                LoopbackTlsServer server = new LoopbackTlsServer(manager.keyManager())) {
            orders = PEBBLE.countLogLines("POST /order-plz");
            assertEquals(List.of("yes.example.test"), names(server.served("yes.example.test")));
            X509Certificate defaultCertificate = server.served(null);
            assertEquals(defaultCertificate, server.served("no.example.test"));
            assertEquals(defaultCertificate, server.served("no.example.test"));
            assertEquals(List.of("domain=yes.example.test", "domain=no.example.test"), asked, "answers are kept: asked once per name");
        } finally {
            ask.stop(0);
        }
        assertEquals(orders + 1, PEBBLE.countLogLines("POST /order-plz"), "the approved name only");
    }

    @Test
    void newNamesAreRateLimitedOverall() throws Exception {
        long orders;
        try (CertificateManager manager = start(PebbleFixtures.settings(PEBBLE, storage, CONFIGURED).onDemand("*.rate.example.test"),
                Duration.ofSeconds(30), 2);
                LoopbackTlsServer server = new LoopbackTlsServer(manager.keyManager())) {
            orders = PEBBLE.countLogLines("POST /order-plz");
            assertEquals(List.of("1.rate.example.test"), names(server.served("1.rate.example.test")));
            assertEquals(List.of("2.rate.example.test"), names(server.served("2.rate.example.test")));
            assertEquals(server.served(null), server.served("3.rate.example.test"), "the third new name this minute waits");
        }
        assertEquals(orders + 2, PEBBLE.countLogLines("POST /order-plz"));
    }

    @Test
    void aHandshakeWaitsABoundedTimeThenGetsTheDefaultWhileTheOrderGoesOn() throws Exception {
        String name = "slow.example.test";
        try (CertificateManager manager = start(PebbleFixtures.settings(PEBBLE, storage, CONFIGURED).onDemand(name),
                Duration.ofMillis(1), 10);
                LoopbackTlsServer server = new LoopbackTlsServer(manager.keyManager())) {
            X509Certificate defaultCertificate = server.served(null);
            assertEquals(defaultCertificate, server.served(name), "not issued within a millisecond");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            X509Certificate served = defaultCertificate;
            while (!names(served).equals(List.of(name)) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                served = server.served(name);
            }
            assertEquals(List.of(name), names(served), "the order went on and a later handshake gets it");
        }
    }

    @Test
    void refusesAnOnDemandPolicyThatAllowsEveryName() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> AutocertSettings.builder().domains(CONFIGURED).set("on-demand", "*").build());
        assertEquals("autocert.on-demand", e.setting());
        assertTrue(e.getMessage().contains("autocert.on-demand-ask"), e.getMessage());
    }
}
