package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The certificate swap into a running Jetty, with two real certificate sets from Pebble: the
 * first issuance of a.example.test and b.example.test, and a renewal of a.example.test.
 */
class SslContextInstallerTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String A = "a.example.test";
    private static final String B = "b.example.test";
    /** Bounds of the load test: swaps, and the time they may take. */
    private static final int SWAPS = 60;
    private static final long MAX_SECONDS = 60;

    @TempDir
    static Path storage;

    private static Server server;
    private static AutocertJetty autocert;
    private static int port;
    private static SSLContext pebbleRoots;
    private static List<CertifiedKey> first;
    private static List<CertifiedKey> renewed;

    @BeforeAll
    static void startJettyWithTwoCertificateSets() throws Exception {
        server = TestServers.httpsServer();
        autocert = AutocertJetty.install(server, TestServers.waitingFor(TestServers.pebble(PEBBLE, storage, A + ";" + B)));
        server.start();
        port = TestServers.httpsPort(server);
        pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
        first = autocert.certificates();
        autocert.manager().orElseThrow().renew(A).get(60, TimeUnit.SECONDS);
        renewed = autocert.certificates();
        assertNotEquals(first.get(0).serial(), renewed.get(0).serial());
        assertEquals(first.get(1), renewed.get(1));
    }

    @AfterAll
    static void stopJetty() throws Exception {
        server.stop();
    }

    @BeforeEach
    void serveTheFirstSet() {
        assertTrue(autocert.installer().install(first, Optional.empty()));
    }

    @Test
    void swapsCertificatesUnderLoadWithoutAFailedRequest() throws Exception {
        Set<String> servedSerials = ConcurrentHashMap.newKeySet();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicInteger newConnectionRequests = new AtomicInteger();
        AtomicInteger keptAliveRequests = new AtomicInteger();
        AtomicBoolean swapping = new AtomicBoolean(true);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAX_SECONDS);

        // One client opens a new connection per request (new handshakes must see each swap) ...
        Thread fresh = new Thread(() -> {
            while (swapping.get() && System.nanoTime() < deadline) {
                try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, port, A, A)) {
                    servedSerials.add(connection.served().getSerialNumber().toString(16));
                    HttpsProbe.Response response = connection.get("/", A);
                    if (response.status() != 200) {
                        throw new AssertionError("status " + response.status() + ": " + response.body());
                    }
                    newConnectionRequests.incrementAndGet();
                } catch (Throwable e) {
                    failures.add(e);
                }
            }
        }, "new-connections");
        // ... and two keep one connection each, for a.example.test and b.example.test.
        List<HttpsProbe.Connection> kept = List.of(HttpsProbe.connect(pebbleRoots, port, A, A), HttpsProbe.connect(pebbleRoots, port, B, B));
        List<byte[]> sessions = kept.stream().map(HttpsProbe.Connection::sessionId).toList();
        List<X509Certificate> keptServed = List.of(kept.get(0).served(), kept.get(1).served());
        Thread keptAlive = new Thread(() -> {
            while (swapping.get() && System.nanoTime() < deadline) {
                for (int i = 0; i < kept.size(); i++) {
                    String host = i == 0 ? A : B;
                    try {
                        HttpsProbe.Response response = kept.get(i).get("/", host);
                        if (response.status() != 200 || !response.body().equals("hello " + host)) {
                            throw new AssertionError("status " + response.status() + ": " + response.body());
                        }
                        keptAliveRequests.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                        return;
                    }
                }
            }
        }, "kept-alive");
        fresh.start();
        keptAlive.start();

        int swaps = 0;
        try {
            while (swaps < SWAPS && System.nanoTime() < deadline && failures.isEmpty()) {
                assertTrue(autocert.installer().install(swaps % 2 == 0 ? renewed : first, Optional.empty()));
                swaps++;
                Thread.sleep(25);
            }
        } finally {
            swapping.set(false);
            fresh.join(TimeUnit.SECONDS.toMillis(30));
            keptAlive.join(TimeUnit.SECONDS.toMillis(30));
        }

        System.out.printf("Load test: %d swaps, %d requests on new connections, %d on kept-alive ones, %d failures%n",
                swaps, newConnectionRequests.get(), keptAliveRequests.get(), failures.size());
        assertEquals(List.of(), failures);
        assertEquals(SWAPS, swaps, "every swap within " + MAX_SECONDS + " s");
        assertTrue(newConnectionRequests.get() > 10, "requests on new connections: " + newConnectionRequests);
        assertTrue(keptAliveRequests.get() > 10, "requests on kept-alive connections: " + keptAliveRequests);
        assertEquals(Set.of(first.get(0).serial(), renewed.get(0).serial()), servedSerials,
                "new handshakes saw both versions of " + A);
        for (int i = 0; i < kept.size(); i++) {
            HttpsProbe.Connection connection = kept.get(i);
            assertTrue(connection.isOpen());
            assertArrayEquals(sessions.get(i), connection.sessionId(), "the kept-alive connection kept its session");
            assertEquals(keptServed.get(i), connection.served());
            connection.close();
        }
    }

    @Test
    void refusesASetWhoseKeyDoesNotMatchItsChainAndKeepsServingTheOldOne() throws Exception {
        CertifiedKey a = first.get(0);
        CertifiedKey b = first.get(1);
        CertifiedKey wrongKey = CertifiedKey.of(A, b.privateKey(), a.chain());

        assertFalse(autocert.installer().install(List.of(wrongKey, b), Optional.of(wrongKey)));

        assertEquals(first, autocert.certificates());
        try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, port, A, A)) {
            assertEquals(a.certificate(), connection.served());
            assertEquals("hello " + A, connection.get("/", A).body());
        }
        try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, port, B, B)) {
            assertEquals(b.certificate(), connection.served());
        }
    }

    @Test
    void refusesAnEmptySet() throws Exception {
        assertFalse(autocert.installer().install(List.of(), Optional.empty()));

        assertEquals(first, autocert.certificates());
        try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, port, A, A)) {
            assertEquals(first.get(0).certificate(), connection.served());
        }
    }

    @Test
    void installsTheRenewedSetThroughTheEngineEvent() throws Exception {
        CertifiedKey next = autocert.manager().orElseThrow().renew(B).get(60, TimeUnit.SECONDS);

        assertEquals(next, TestServers.served(autocert, B));
        try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, port, B, B)) {
            assertEquals(next.certificate(), connection.served());
        }
    }
}
