package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
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
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
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
    private static final int RENEWALS = 4;
    private static final int CLIENTS = 2;
    private static final Duration LOAD_LIMIT = Duration.ofSeconds(90);

    @Test
    void servesEveryRequestOnNewAndKeptAliveConnectionsWhileCertificatesAreRenewed(@TempDir Path dir) throws Exception {
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            CertificateManager manager = AutocertTomcat.install(server.tomcat,
                    TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).build());
            server.start();
            KeyStore roots = PEBBLE.issuingTrustStore();
            TestHttpClient.awaitVerified(server.httpsPort, NAME, roots);
            CertifiedKey first = manager.certificate(NAME).orElseThrow();

            List<String> failures = new CopyOnWriteArrayList<>();
            Set<String> servedSerials = ConcurrentHashMap.newKeySet();
            AtomicInteger requests = new AtomicInteger();
            AtomicBoolean renewing = new AtomicBoolean(true);
            long deadline = System.nanoTime() + LOAD_LIMIT.toNanos();
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(client("new-connections-" + i, () -> {
                    try (TestHttpClient.Connection connection = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                        check(connection, servedSerials);
                        requests.incrementAndGet();
                    }
                }, renewing, deadline, failures));
                clients.add(client("kept-alive-" + i, new Step() {
                    private TestHttpClient.Connection connection;
                    private X509Certificate served;
                    private int used;

                    @Override
                    public void run() throws Exception {
                        if (connection == null || used++ == 25) {
                            if (connection != null) {
                                connection.close();
                            }
                            connection = TestHttpClient.https(server.httpsPort, NAME, roots);
                            served = connection.served().get(0);
                            used = 0;
                        }
                        check(connection, servedSerials);
                        if (!connection.served().get(0).equals(served)) {
                            throw new AssertionError("an open connection changed its certificate");
                        }
                        requests.incrementAndGet();
                    }
                }, renewing, deadline, failures));
            }
            long loadStart = System.nanoTime();
            clients.forEach(Thread::start);

            // Renewals through the engine, under load; each serves from the next handshake.
            List<CertifiedKey> versions = new ArrayList<>(List.of(first));
            for (int i = 0; i < RENEWALS; i++) {
                versions.add(manager.renew(NAME).get(30, TimeUnit.SECONDS));
                Thread.sleep(300); // requests against this version
            }
            renewing.set(false);
            for (Thread client : clients) {
                client.join(TimeUnit.SECONDS.toMillis(15));
            }

            assertEquals(List.of(), failures);
            assertTrue(requests.get() >= 100, "requests: " + requests.get());
            assertEquals(versions.stream().map(CertifiedKey::serial).collect(Collectors.toSet()),
                    servedSerials, "every version was served");
            LOG.info("{} renewals in {} ms under load: {} requests, {} failed, serials served {}", RENEWALS,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStart), requests.get(), failures.size(), servedSerials);
        }
    }

    @Test
    void keepsEveryTlsSettingOfTheUsersSslHostConfig(@TempDir Path dir) throws Exception {
        TestCa clientCa = TestCa.create("Autocert test client CA");
        TestCa.Client accepted = clientCa.issue("accepted client");
        TestCa.Client revoked = clientCa.issue("revoked client");
        TestCa.Client stranger = TestCa.create("Another CA").issue("stranger");
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

            // The user's own config serves, with the key manager as its certificate: nothing to copy.
            SSLHostConfig installed = Arrays.stream(server.https.findSslHostConfigs())
                    .filter(c -> c.getHostName().equals("_default_")).findFirst().orElseThrow();
            assertSame(user, installed);
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
            own.setCertificateVerification("required");
            own.setSessionTimeout(300);
            server.https.addSslHostConfig(own);
            CertificateManager manager = AutocertTomcat.install(server.tomcat,
                    TestTomcat.settings(PEBBLE, dir.resolve("storage"), "a.example.test;b.example.test;c.example.test").build());
            server.start();

            // The user's configs serve as they are, each with one certificate: the engine's key
            // manager. No config per name: SNI chooses inside the key manager.
            Map<String, SSLHostConfig> installed = Arrays.stream(server.https.findSslHostConfigs())
                    .collect(Collectors.toMap(SSLHostConfig::getHostName, c -> c));
            assertEquals(Set.of("_default_", "b.example.test"), installed.keySet());
            assertSame(defaultHost, installed.get("_default_"));
            assertSame(own, installed.get("b.example.test"));
            for (SSLHostConfig config : installed.values()) {
                assertEquals(1, config.getCertificates().size(), config.getHostName());
                assertSame(manager.keyManager(), config.getCertificates().iterator().next().getCertificateKeyManager());
            }
            assertEquals(AutocertSslImplementation.class.getName(), server.https.getProperty("sslImplementationName"));
            assertEquals(SSLHostConfig.CertificateVerification.REQUIRED, own.getCertificateVerification());
            assertEquals(300, own.getSessionTimeout());
            assertEquals(600, defaultHost.getSessionTimeout());

            KeyStore roots = PEBBLE.issuingTrustStore();
            for (String name : List.of("a.example.test", "c.example.test")) {
                TestHttpClient.awaitVerified(server.httpsPort, name, roots); // each its own certificate
                try (TestHttpClient.Connection connection = TestHttpClient.https(server.httpsPort, name, roots)) {
                    assertEquals("hello " + name + " /", connection.request("GET", "/", name).body(), name);
                }
            }
            // b.example.test requires a client certificate, as its own config says, and gets its
            // own server certificate from the same key manager.
            TestHttpClient.Handshake b = TestHttpClient.handshake(server.httpsPort, "b.example.test", roots);
            assertTrue(b.leaf().getSubjectAlternativeNames().stream().anyMatch(san -> san.get(1).equals("b.example.test")),
                    "the certificate served for b.example.test covers it");
            assertThrows(IOException.class, () -> {
                if (b.failure() != null) {
                    throw b.failure();
                }
                try (TestHttpClient.Connection connection = b.connection()) {
                    connection.request("GET", "/", "b.example.test");
                }
            }, "b.example.test requires a client certificate");
        }
    }

    @Test
    void replacesTheDefaultHostsOwnCertificateAndTlsImplementation(@TempDir Path dir) throws Exception {
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            // OpenSSL asks for a certificate once, when its context is built: Autocert needs JSSE.
            server.https.setProperty("sslImplementationName", "org.apache.tomcat.util.net.openssl.OpenSSLImplementation");
            SSLHostConfig user = new SSLHostConfig();
            SSLHostConfigCertificate own = new SSLHostConfigCertificate(user, SSLHostConfigCertificate.Type.RSA);
            own.setCertificateKeystoreFile(dir.resolve("missing.p12").toString()); // read, it would fail the start
            user.addCertificate(own);
            server.https.addSslHostConfig(user);
            AutocertTomcat.install(server.tomcat, TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).build());
            server.start();

            assertEquals(AutocertSslImplementation.class.getName(), server.https.getProperty("sslImplementationName"));
            assertEquals(1, user.getCertificates().size());
            assertNotSame(own, user.getCertificates().iterator().next());
            TestHttpClient.awaitVerified(server.httpsPort, NAME, PEBBLE.issuingTrustStore());
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

    private static void check(TestHttpClient.Connection connection, Set<String> servedSerials) throws Exception {
        TestHttpClient.Response response = connection.request("GET", "/load", NAME);
        if (response.status() != 200 || !response.body().equals("hello " + NAME + " /load")) {
            throw new AssertionError("Unexpected response " + response);
        }
        servedSerials.add(connection.served().get(0).getSerialNumber().toString(16));
    }

    /** A request loop step that may throw. */
    private interface Step {
        void run() throws Exception;
    }

    private static Thread client(String name, Step step, AtomicBoolean running, long deadline, List<String> failures) {
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
