package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import javax.net.ssl.KeyManager;
import org.apache.catalina.LifecycleListener;
import org.apache.tomcat.util.net.SSLHostConfig;
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

    @Test
    void keepsEveryTlsSettingOfTheUsersSslHostConfig(@TempDir Path dir) throws Exception {
        TestClientCa clientCa = TestClientCa.create("Autocert test client CA");
        TestClientCa.Client accepted = clientCa.issue("accepted client");
        TestClientCa.Client revoked = clientCa.issue("revoked client");
        TestClientCa.Client stranger = TestClientCa.create("Another CA").issue("stranger");
        Path trustStore = dir.resolve("clients.p12");
        try (OutputStream out = Files.newOutputStream(trustStore)) {
            TestHttpClient.trustStore(clientCa.certificate).store(out, "trust-secret".toCharArray());
        }
        Path crl = dir.resolve("clients.crl");
        Files.write(crl, clientCa.crl(revoked.certificate()).getEncoded());

        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            // What <SSLHostConfig> inside the HTTPS <Connector> of server.xml makes: the default host's.
            SSLHostConfig user = new SSLHostConfig();
            user.setProtocols("TLSv1.3");
            user.setCiphers("ECDHE-ECDSA-AES128-GCM-SHA256"); // TLS 1.2's; HIGH, the default, has TLS 1.3's too
            user.setCipherSuites("TLS_AES_128_GCM_SHA256");
            user.setGroups("secp384r1");
            user.setCertificateVerification("required");
            user.setCertificateVerificationDepth(2);
            user.setTruststoreFile(trustStore.toString());
            user.setTruststorePassword("trust-secret");
            user.setTruststoreType("PKCS12");
            user.setCertificateRevocationListFile(crl.toString());
            user.setSessionTimeout(600);
            server.https.addSslHostConfig(user);
            AutocertTomcat.install(server.tomcat, TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).build());
            server.start();
            KeyStore roots = PEBBLE.issuingTrustStore();
            TestHttpClient.awaitVerified(server.httpsPort, NAME, roots); // TLS 1.3: refused clients see it later

            SSLHostConfig installed = Arrays.stream(server.https.findSslHostConfigs())
                    .filter(c -> c.getHostName().equals("_default_")).findFirst().orElseThrow();
            assertNotSame(user, installed);
            assertEquals(SSLHostConfig.CertificateVerification.REQUIRED, installed.getCertificateVerification());
            assertEquals(2, installed.getCertificateVerificationDepth());
            assertEquals(trustStore.toString(), installed.getTruststoreFile());
            assertEquals(crl.toString(), installed.getCertificateRevocationListFile());
            assertEquals(Set.of("TLSv1.3"), installed.getProtocols());
            assertEquals(user.getCiphers(), installed.getCiphers());
            assertEquals(user.getCipherSuites(), installed.getCipherSuites());
            assertEquals("secp384r1", installed.getGroups());
            assertEquals(600, installed.getSessionTimeout());

            // A client certificate from the trust store is accepted, over the one TLS 1.3 suite allowed.
            TestHttpClient.Handshake withCertificate = TestHttpClient.handshake(server.httpsPort, NAME, roots, true,
                    accepted.keyManagers());
            try (TestHttpClient.Connection connection = withCertificate.connection()) {
                assertEquals("hello " + NAME + " /", connection.request("GET", "/", NAME).body());
                assertEquals("TLS_AES_128_GCM_SHA256", connection.cipherSuite());
            }
            // None, a revoked one (the CRL) and one of another CA (the trust store) are refused.
            assertRefused(server.httpsPort, roots, null, "no client certificate");
            assertRefused(server.httpsPort, roots, revoked.keyManagers(), "a revoked client certificate");
            assertRefused(server.httpsPort, roots, stranger.keyManagers(), "a client certificate of another CA");
        }
    }

    @Test
    void aHostsOwnSslHostConfigKeepsItsSettingsAndOthersTheDefaultHosts(@TempDir Path dir) throws Exception {
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            SSLHostConfig defaultHost = new SSLHostConfig();
            defaultHost.setSessionTimeout(600);
            server.https.addSslHostConfig(defaultHost);
            SSLHostConfig own = new SSLHostConfig();
            own.setHostName("b.example.test");
            own.setCertificateVerification("optional");
            own.setSessionTimeout(300);
            server.https.addSslHostConfig(own);
            AutocertTomcat.install(server.tomcat,
                    TestTomcat.settings(PEBBLE, dir.resolve("storage"), "a.example.test;b.example.test;c.example.test").build());
            server.start(); // the placeholders are installed before the connector starts

            Map<String, SSLHostConfig> installed = Arrays.stream(server.https.findSslHostConfigs())
                    .collect(Collectors.toMap(SSLHostConfig::getHostName, c -> c));
            assertEquals(Set.of("_default_", "b.example.test", "c.example.test"), installed.keySet());
            assertEquals(300, installed.get("b.example.test").getSessionTimeout());
            assertEquals(SSLHostConfig.CertificateVerification.OPTIONAL, installed.get("b.example.test").getCertificateVerification());
            for (String host : List.of("_default_", "c.example.test")) {
                assertEquals(600, installed.get(host).getSessionTimeout(), host);
                assertEquals(SSLHostConfig.CertificateVerification.NONE, installed.get(host).getCertificateVerification(), host);
            }
        }
    }

    /** Asserts that a client offering {@code clientKeys} cannot make a request: the server refuses its certificate. */
    private static void assertRefused(int port, KeyStore roots, KeyManager[] clientKeys, String what) {
        assertThrows(IOException.class, () -> {
            TestHttpClient.Handshake handshake = TestHttpClient.handshake(port, NAME, roots, true, clientKeys);
            if (handshake.failure() != null) {
                throw handshake.failure();
            }
            try (TestHttpClient.Connection connection = handshake.connection()) {
                connection.request("GET", "/", NAME);
            }
        }, what);
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
