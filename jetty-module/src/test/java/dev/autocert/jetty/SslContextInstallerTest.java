package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's key manager installed once in a running Jetty, with real certificates from
 * Pebble for a.example.test and b.example.test: renewals are served from the next handshake
 * with nothing in Jetty rebuilt, under HTTPS load, without a failed request.
 */
class SslContextInstallerTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String A = "a.example.test";
    private static final String B = "b.example.test";
    /** Bounds of the load test: renewals, client threads, and the time it may take. */
    private static final int RENEWALS = 6;
    private static final int NEW_CONNECTION_CLIENTS = 2;
    private static final long MAX_SECONDS = 90;

    @TempDir
    static Path storage;

    private static Server server;
    private static AutocertJetty autocert;
    private static CertificateManager manager;
    private static int port;
    private static KeyStore pebbleRoots;

    @BeforeAll
    static void startJetty() throws Exception {
        server = TestServers.httpsServer();
        autocert = AutocertJetty.install(server, TestServers.waitingFor(TestServers.pebble(PEBBLE, storage, A + ";" + B)));
        server.start();
        port = TestServers.httpsPort(server);
        pebbleRoots = PEBBLE.issuingTrustStore();
        manager = autocert.manager().orElseThrow();
    }

    @AfterAll
    static void stopJetty() throws Exception {
        server.stop();
    }

    /** A new client: its own SSL context, so no TLS session of an earlier connection is resumed. */
    private static HttpsProbe.Connection newClient(String host) throws Exception {
        return HttpsProbe.connect(HttpsProbe.trusting(pebbleRoots), port, host);
    }

    @Test
    void servesARenewalFromTheNextHandshakeWithoutRebuildingTheSslContext() throws Exception {
        SslContextFactory.Server factory = server.getConnectors()[0].getConnectionFactory(SslConnectionFactory.class).getSslContextFactory();
        SSLContext before = factory.getSslContext();
        CertifiedKey old = TestServers.served(autocert, B);

        CertifiedKey next = manager.renew(B).get(60, TimeUnit.SECONDS);

        assertNotEquals(old.serial(), next.serial());
        try (HttpsProbe.Connection connection = newClient(B)) {
            assertEquals(next.certificate(), connection.served());
            assertEquals("hello " + B, connection.get("/").body());
        }
        assertSame(before, factory.getSslContext(), "one SSL context for the factory's whole life");
    }

    @Test
    void renewsUnderHttpsLoadWithoutAFailedRequest() throws Exception {
        SSLContext sharedClient = HttpsProbe.trusting(pebbleRoots); // a client that resumes its TLS sessions
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicInteger newConnectionRequests = new AtomicInteger();
        AtomicInteger keptAliveRequests = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAX_SECONDS);

        // Clients that open a new connection per request, alternately as new clients and as one
        // that resumes its sessions ...
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < NEW_CONNECTION_CLIENTS; t++) {
            String host = t % 2 == 0 ? A : B;
            threads.add(new Thread(() -> {
                for (int i = 0; running.get() && System.nanoTime() < deadline; i++) {
                    try (HttpsProbe.Connection connection = i % 2 == 0 ? newClient(host)
                            : HttpsProbe.connect(sharedClient, port, host)) {
                        expectHello(connection.get("/"), host);
                        newConnectionRequests.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }, "new-connections-" + host));
        }
        // ... and one that keeps a connection each to a.example.test and b.example.test.
        List<HttpsProbe.Connection> kept = List.of(newClient(A), newClient(B));
        List<byte[]> sessions = kept.stream().map(HttpsProbe.Connection::sessionId).toList();
        List<X509Certificate> keptServed = List.of(kept.get(0).served(), kept.get(1).served());
        threads.add(new Thread(() -> {
            while (running.get() && System.nanoTime() < deadline) {
                for (int i = 0; i < kept.size(); i++) {
                    String host = i == 0 ? A : B;
                    try {
                        expectHello(kept.get(i).get("/", host), host);
                        keptAliveRequests.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                        return;
                    }
                }
            }
        }, "kept-alive"));
        threads.forEach(Thread::start);

        Set<String> renewedSerials = ConcurrentHashMap.newKeySet();
        int renewals = 0;
        try {
            while (renewals < RENEWALS && System.nanoTime() < deadline && failures.isEmpty()) {
                String name = renewals % 2 == 0 ? A : B;
                CertifiedKey next = manager.renew(name).get(60, TimeUnit.SECONDS);
                renewedSerials.add(next.serial());
                // Served from the very next handshake of a new client, while the load goes on.
                try (HttpsProbe.Connection connection = newClient(name)) {
                    assertEquals(next.certificate(), connection.served(), "renewal " + (renewals + 1) + " of " + name);
                }
                renewals++;
            }
        } finally {
            running.set(false);
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            }
        }

        System.out.printf("Load test: %d renewals, %d requests on new connections, %d on kept-alive ones, %d failures%n",
                renewals, newConnectionRequests.get(), keptAliveRequests.get(), failures.size());
        assertEquals(List.of(), failures);
        assertEquals(RENEWALS, renewals, "every renewal within " + MAX_SECONDS + " s");
        assertEquals(RENEWALS, renewedSerials.size());
        assertTrue(newConnectionRequests.get() > 10, "requests on new connections: " + newConnectionRequests);
        assertTrue(keptAliveRequests.get() > 10, "requests on kept-alive connections: " + keptAliveRequests);
        for (int i = 0; i < kept.size(); i++) {
            HttpsProbe.Connection connection = kept.get(i);
            assertTrue(connection.isOpen());
            assertArrayEquals(sessions.get(i), connection.sessionId(), "the kept-alive connection kept its session");
            assertEquals(keptServed.get(i), connection.served());
            connection.close();
        }
    }

    private static void expectHello(HttpsProbe.Response response, String host) {
        if (response.status() != 200 || !response.body().equals("hello " + host)) {
            throw new AssertionError("status " + response.status() + ": " + response.body());
        }
    }

    @Test
    void refusesAHandshakeWhoseSniNoCertificateCoversWhenTheFactoryRequiresSni() throws Exception {
        Server strict = TestServers.httpsServer();
        SslContextFactory.Server factory = strict.getConnectors()[0].getConnectionFactory(SslConnectionFactory.class).getSslContextFactory();
        factory.setSniRequired(true);
        AutocertJetty strictAutocert = AutocertJetty.install(strict, TestServers.unreachable(storage.resolve("strict"), A).build());
        strict.start();
        try {
            int strictPort = TestServers.httpsPort(strict);
            List<X509Certificate> placeholder = List.of(TestServers.served(strictAutocert, A).certificate());

            // A new client each time: a resumed TLS session would not ask the key manager.
            try (HttpsProbe.Connection connection = HttpsProbe.connect(HttpsProbe.trusting(placeholder), strictPort, A, A)) {
                assertEquals("hello " + A, connection.get("/").body());
            }
            // Without sniRequired these would get the default certificate, which covers A.
            assertThrows(SSLHandshakeException.class,
                    () -> HttpsProbe.connect(HttpsProbe.trusting(placeholder), strictPort, "other.example.test", A).close());
            assertThrows(SSLHandshakeException.class, () -> HttpsProbe.connect(HttpsProbe.trusting(placeholder), strictPort, null, A).close());
        } finally {
            strict.stop();
        }
    }

    @Test
    void refusesAFactoryWithATrustStoreFileItCannotApply(@TempDir Path dir) throws Exception {
        Path trustStore = dir.resolve("trust.p12");
        KeyStore empty = KeyStore.getInstance("PKCS12");
        empty.load(null, null);
        try (OutputStream out = Files.newOutputStream(trustStore)) {
            empty.store(out, "secret".toCharArray());
        }
        SslContextFactory.Server factory = new SslContextFactory.Server();
        factory.setTrustStorePath(trustStore.toString());
        factory.setTrustStorePassword("secret");
        factory.setNeedClientAuth(true);

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new SslContextInstaller(() -> null).install(factory));
        assertTrue(e.getMessage().contains("trust store file"), e.getMessage());
        assertEquals(null, factory.getSslContext(), "the factory left as it was");
    }
}
