package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.catalina.LifecycleListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class SslHostConfigInstallerTest {

    private static final Logger LOG = LoggerFactory.getLogger(SslHostConfigInstallerTest.class);

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String NAME = "swap.example.test";
    private static final int SWAPS = 50;
    private static final Duration LOAD_LIMIT = Duration.ofSeconds(60);

    @Test
    void servesEveryRequestWhileCertificatesAreSwappedUnderLoad(@TempDir Path dir) throws Exception {
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            CertificateManager manager = AutocertTomcat.install(server.tomcat,
                    TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).build());
            server.start();
            KeyStore roots = PEBBLE.issuingTrustStore();
            TestHttpClient.awaitVerified(server.httpsPort, NAME, roots);
            CertifiedKey first = manager.certificate(NAME).orElseThrow();
            SslHostConfigInstaller installer = installer(server);

            List<String> failures = new CopyOnWriteArrayList<>();
            Set<String> servedSerials = ConcurrentHashMap.newKeySet();
            AtomicInteger requests = new AtomicInteger();
            AtomicBoolean swapping = new AtomicBoolean(true);
            long deadline = System.nanoTime() + LOAD_LIMIT.toNanos();
            List<Thread> clients = List.of(
                    client("new-connections", () -> {
                        try (TestHttpClient.Connection connection = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                            check(connection, servedSerials);
                            requests.incrementAndGet();
                        }
                    }, swapping, deadline, failures),
                    client("kept-alive", new Runnable2() {
                        private TestHttpClient.Connection connection;
                        private int used;

                        @Override
                        public void run() throws Exception {
                            if (connection == null || used++ == 25) {
                                if (connection != null) {
                                    connection.close();
                                }
                                connection = TestHttpClient.https(server.httpsPort, NAME, roots);
                                used = 0;
                            }
                            check(connection, servedSerials);
                            requests.incrementAndGet();
                        }
                    }, swapping, deadline, failures));
            long loadStart = System.nanoTime();
            clients.forEach(Thread::start);

            // Two renewals through the engine, under load, give three real versions to alternate.
            List<CertifiedKey> versions = new ArrayList<>(List.of(first));
            for (int i = 0; i < 2; i++) {
                versions.add(manager.renew(NAME).get(30, TimeUnit.SECONDS));
            }
            int swaps = 2;
            for (int i = 0; i < SWAPS && System.nanoTime() < deadline; i++) {
                assertTrue(installer.install(List.of(versions.get(i % versions.size()))), "swap " + i);
                swaps++;
                Thread.sleep(20);
            }
            Thread.sleep(200); // requests against the last version too
            swapping.set(false);
            for (Thread client : clients) {
                client.join(TimeUnit.SECONDS.toMillis(15));
            }

            assertEquals(List.of(), failures);
            assertTrue(swaps >= SWAPS, "swaps: " + swaps);
            assertTrue(requests.get() >= 100, "requests: " + requests.get());
            assertEquals(versions.stream().map(CertifiedKey::serial).collect(Collectors.toSet()),
                    servedSerials, "every version was served");
            LOG.info("{} swaps in {} ms under load: {} requests, {} failed, serials served {}", swaps,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStart), requests.get(), failures.size(), servedSerials);
        }
    }

    @Test
    void refusesACertificateWhoseKeyDoesNotMatchAndKeepsServingTheOld(@TempDir Path dir) throws Exception {
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            CertificateManager manager = AutocertTomcat.install(server.tomcat,
                    TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).build());
            server.start();
            KeyStore roots = PEBBLE.issuingTrustStore();
            X509Certificate served = TestHttpClient.awaitVerified(server.httpsPort, NAME, roots);
            CertifiedKey current = manager.certificate(NAME).orElseThrow();
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(256);
            PrivateKey otherKey = generator.generateKeyPair().getPrivate();
            CertifiedKey mismatched = CertifiedKey.of(NAME, otherKey, current.chain());

            assertFalse(installer(server).install(List.of(mismatched)));

            try (TestHttpClient.Connection connection = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                assertEquals(served, connection.served().get(0));
                assertEquals(200, connection.request("GET", "/", NAME).status());
            }
        }
    }

    static SslHostConfigInstaller installer(TestTomcat server) {
        for (LifecycleListener listener : server.tomcat.getServer().findLifecycleListeners()) {
            if (listener instanceof AutocertListener autocert) {
                return autocert.installer();
            }
        }
        throw new AssertionError("No AutocertListener on the server");
    }

    private static void check(TestHttpClient.Connection connection, Set<String> servedSerials) throws Exception {
        TestHttpClient.Response response = connection.request("GET", "/load", NAME);
        if (response.status() != 200 || !response.body().equals("hello " + NAME + " /load")) {
            throw new AssertionError("Unexpected response " + response);
        }
        servedSerials.add(connection.served().get(0).getSerialNumber().toString(16));
    }

    /** A request loop step that may throw. */
    private interface Runnable2 {
        void run() throws Exception;
    }

    private static Thread client(String name, Runnable2 step, AtomicBoolean running, long deadline, List<String> failures) {
        Thread thread = new Thread(() -> {
            while (running.get() && System.nanoTime() < deadline) {
                try {
                    step.run();
                } catch (Exception | AssertionError e) {
                    failures.add(name + ": " + e);
                }
            }
        }, "load-" + name);
        thread.setDaemon(true);
        return thread;
    }
}
