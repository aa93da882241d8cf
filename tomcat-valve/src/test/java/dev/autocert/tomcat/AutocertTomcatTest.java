package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.Http01Tokens;
import dev.autocert.core.TestTokens;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.valves.ValveBase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class AutocertTomcatTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final Duration ISSUANCE_TIMEOUT = Duration.ofSeconds(30);

    @Test
    void servesPlaceholdersUntilPebbleIssuesThenPicksCertificateBySni(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), "a.example.test,www.a.example.test;b.example.test").build();
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            // Holding the CA's challenge requests back keeps the placeholders serving while they
            // are checked: a valve ahead of the challenge valve, which install adds after it.
            CountDownLatch holdBack = new CountDownLatch(1);
            server.tomcat.getEngine().getPipeline().addValve(new ValveBase() {
                @Override
                public void invoke(Request request, Response response) throws IOException, ServletException {
                    if (request.getDecodedRequestURI().startsWith(Http01Tokens.PATH_PREFIX)) {
                        await(holdBack);
                    }
                    getNext().invoke(request, response);
                }
            });
            CertificateManager manager = AutocertTomcat.install(server.tomcat, settings);
            server.start();
            try {
                for (String name : List.of("a.example.test", "b.example.test")) {
                    CertifiedKey served = manager.certificate(name).orElseThrow();
                    assertTrue(served.placeholder(), name);
                    X509Certificate placeholder = served.certificate();
                    try (TestHttpClient.Connection connection = TestHttpClient.https(server.httpsPort, name,
                            TestHttpClient.trustStore(placeholder))) {
                        assertEquals(placeholder, connection.served().get(0), "the placeholder of " + name);
                        assertEquals("hello " + name + " /", connection.request("GET", "/", name).body());
                    }
                    TestHttpClient.Handshake untrusted = TestHttpClient.handshake(server.httpsPort, name, PEBBLE.issuingTrustStore());
                    assertInstanceOf(SSLHandshakeException.class, untrusted.failure(), "a placeholder does not chain to Pebble");
                }
            } finally {
                holdBack.countDown();
            }

            KeyStore pebbleRoots = PEBBLE.issuingTrustStore();
            for (String name : List.of("a.example.test", "www.a.example.test", "b.example.test")) {
                String certificateName = name.equals("b.example.test") ? name : "a.example.test";
                CertifiedKey expected = awaitIssued(manager, certificateName);
                assertEquals(expected.certificate(), TestHttpClient.awaitVerified(server.httpsPort, name, pebbleRoots), name);
                try (TestHttpClient.Connection connection = TestHttpClient.https(server.httpsPort, name, pebbleRoots)) {
                    assertEquals(expected.certificate(), connection.served().get(0));
                    TestHttpClient.Response response = connection.request("GET", "/page", name);
                    assertEquals(200, response.status());
                    assertEquals("hello " + name + " /page", response.body());
                }
            }
            assertEquals(Set.of("a.example.test", "www.a.example.test"), Set.copyOf(manager.certificate("a.example.test").orElseThrow().names()));

            // One SSLHostConfig serves every name, so Tomcat's strictSni check lets a connection
            // made for one name serve another (as HTTP/2 clients reuse connections); a client
            // without SNI gets the first certificate.
            try (TestHttpClient.Connection connection = TestHttpClient.https(server.httpsPort, "www.a.example.test", pebbleRoots)) {
                assertEquals("hello a.example.test /", connection.request("GET", "/", "a.example.test").body());
                assertEquals("hello b.example.test /", connection.request("GET", "/", "b.example.test").body());
            }
            TestHttpClient.Handshake withoutSni = TestHttpClient.handshake(server.httpsPort, "a.example.test", pebbleRoots, false);
            try (TestHttpClient.Connection connection = withoutSni.connection()) {
                assertEquals(manager.certificate("a.example.test").orElseThrow().certificate(), withoutSni.leaf());
                assertEquals("hello a.example.test /", connection.request("GET", "/", "a.example.test").body());
            }

            // A name no certificate covers gets the default host's, the first one; host-name
            // checking refuses it.
            TestHttpClient.Handshake other = TestHttpClient.handshake(server.httpsPort, "c.example.test", pebbleRoots);
            assertEquals(manager.certificate("a.example.test").orElseThrow().certificate(), other.leaf());
            assertInstanceOf(SSLHandshakeException.class, other.failure());
        }
    }

    @Test
    void servesAnIpAddressCertificateToAClientSendingNoSni(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), "127.0.0.1;a.example.test").build();
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            CertificateManager manager = AutocertTomcat.install(server.tomcat, settings);
            server.start();
            SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
            CertifiedKey ip = awaitIssued(manager, "127.0.0.1");
            CertifiedKey name = awaitIssued(manager, "a.example.test");
            HttpsProbe.awaitServed(pebbleRoots, server.httpsPort, "a.example.test", serialHex(name), ISSUANCE_TIMEOUT).close();

            // A client of https://127.0.0.1/ sends no SNI (RFC 6066 has none for addresses); it
            // gets the first certificate, whose IP address SAN it verifies.
            try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, server.httpsPort, null, "127.0.0.1")) {
                assertEquals(ip.certificate(), connection.served());
                assertEquals("hello 127.0.0.1 /", connection.get("/").body());
            }
            try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, server.httpsPort, "a.example.test")) {
                assertEquals(name.certificate(), connection.served());
            }
        }
    }

    @Test
    void restartServesTheStoredCertificateAtOnce(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), "stored.example.test").build();
        X509Certificate first;
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            AutocertTomcat.install(server.tomcat, settings);
            server.start();
            first = TestHttpClient.awaitVerified(server.httpsPort, "stored.example.test", PEBBLE.issuingTrustStore());
        }
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat2"), PEBBLE.httpPort())) {
            CertificateManager manager = AutocertTomcat.install(server.tomcat, settings);
            List<CertificateEvent.Type> events = new CopyOnWriteArrayList<>();
            manager.addListener(event -> events.add(event.type()));
            server.start();
            // No waiting: the stored certificate was installed before the connector started.
            try (TestHttpClient.Connection connection = TestHttpClient.https(server.httpsPort, "stored.example.test",
                    PEBBLE.issuingTrustStore())) {
                assertEquals(first, connection.served().get(0));
            }
            assertEquals(CertificateEvent.Type.LOADED, events.get(0));
        }
    }

    @Test
    void installAddsTheListenerAndAnHttpConnectorOnHttpPort(@TempDir Path dir) {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(dir.toString());
        Connector https = new Connector();
        https.setPort(8443);
        https.setProperty("SSLEnabled", "true");
        tomcat.getService().addConnector(https);
        AutocertSettings settings = AutocertSettings.builder().domains("example.test").ca("https://localhost:1/dir")
                .httpPort(8080).build();

        CertificateManager manager = AutocertTomcat.install(tomcat, settings);

        assertEquals(dir.resolve("autocert").toAbsolutePath(), manager.settings().storage().orElseThrow().toAbsolutePath());
        Connector[] connectors = tomcat.getService().findConnectors();
        assertEquals(2, connectors.length);
        assertEquals(8080, connectors[1].getPort());
        assertEquals(8443, connectors[1].getRedirectPort());
        assertFalse(SslHostConfigInstaller.isHttps(connectors[1]));
        assertTrue(Arrays.stream(tomcat.getServer().findLifecycleListeners())
                .anyMatch(AutocertListener.class::isInstance));
    }

    @Test
    void installAddsAnHttpsConnectorOn443WhenThereIsNone(@TempDir Path dir) {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(dir.toString());
        AutocertSettings settings = AutocertSettings.builder().domains("example.test").ca("https://localhost:1/dir").build();

        AutocertTomcat.install(tomcat, settings);

        Connector[] connectors = tomcat.getService().findConnectors();
        assertEquals(2, connectors.length);
        assertTrue(SslHostConfigInstaller.isHttps(connectors[0]));
        assertEquals(443, connectors[0].getPort());
        assertEquals(80, connectors[1].getPort());
        assertEquals(443, connectors[1].getRedirectPort());
        // Challenges first, then everything else on the added connector to HTTPS.
        List<Class<?>> valves = Arrays.stream(tomcat.getEngine().getPipeline().getValves()).<Class<?>>map(Object::getClass)
                .filter(c -> c == AcmeChallengeValve.class || c == HttpsRedirectValve.class).toList();
        assertEquals(List.of(AcmeChallengeValve.class, HttpsRedirectValve.class), valves);
    }

    @Test
    void installKeepsAnExistingHttpConnectorAndValve(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), "valve.example.test").build();
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            AcmeChallengeValve declared = new AcmeChallengeValve();
            server.tomcat.getEngine().getPipeline().addValve(declared);
            AutocertTomcat.install(server.tomcat, settings);
            server.start();
            assertEquals(2, server.tomcat.getService().findConnectors().length);
            List<Valve> valves = List.of(server.tomcat.getEngine().getPipeline().getValves());
            assertEquals(1, valves.stream().filter(AcmeChallengeValve.class::isInstance).count());
            assertTrue(declared.connected());
            assertNotNull(TestHttpClient.awaitVerified(server.httpsPort, "valve.example.test", PEBBLE.issuingTrustStore()));
        }
    }

    @Test
    void installRefusesAnHttpPortWhereAnHttpsConnectorListens(@TempDir Path dir) {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(dir.toString());
        Connector https = new Connector();
        https.setPort(8443);
        https.setProperty("SSLEnabled", "true");
        tomcat.getService().addConnector(https);
        AutocertSettings settings = AutocertSettings.builder().domains("example.test").ca("https://localhost:1/dir")
                .httpPort(8443).build();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AutocertTomcat.install(tomcat, settings));

        assertTrue(e.getMessage().startsWith("autocert.http-port is 8443, where an HTTPS connector listens; "), e.getMessage());
        assertTrue(e.getMessage().contains("set autocert.http-port to your plain HTTP port"), e.getMessage());
        assertEquals(1, tomcat.getService().findConnectors().length, "nothing installed");
        assertEquals(0, tomcat.getServer().findLifecycleListeners().length, "nothing installed");
    }

    @Test
    void installRefusesHttpPort443WhenItWouldAddTheHttpsConnectorThere(@TempDir Path dir) {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(dir.toString());
        AutocertSettings settings = AutocertSettings.builder().domains("example.test").ca("https://localhost:1/dir")
                .httpPort(443).build();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AutocertTomcat.install(tomcat, settings));

        assertTrue(e.getMessage().startsWith("autocert.http-port is 443, where an HTTPS connector would listen"), e.getMessage());
    }

    @Test
    void theAddedHttpConnectorListensOnlyOnTheHttpsConnectorsAddress(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), "address.example.test").build();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(dir.resolve("tomcat").toString());
        Connector https = new Connector();
        https.setPort(TestTomcat.freePort());
        https.setProperty("address", "127.0.0.1");
        https.setProperty("SSLEnabled", "true");
        tomcat.getService().addConnector(https);
        tomcat.addContext("", null);

        AutocertTomcat.install(tomcat, settings);
        Connector http = tomcat.getService().findConnectors()[1];
        assertEquals(settings.httpPort(), http.getPort());
        assertEquals(InetAddress.getByName("127.0.0.1"), http.getProperty("address"));
        tomcat.start();
        try {
            try (TestHttpClient.Connection connection = TestHttpClient.http(settings.httpPort())) {
                assertEquals(308, connection.request("GET", "/", "address.example.test").status());
            }
            // Bound to all interfaces, it would accept on 127.0.0.2 as well (all of 127/8 is loopback).
            try (Socket socket = new Socket()) {
                assertThrows(ConnectException.class,
                        () -> socket.connect(new InetSocketAddress("127.0.0.2", settings.httpPort()), 5000));
            }
        } finally {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    @Test
    void theDocumentedRedirectForAConnectorOfYourOwnAnswersChallengesFirst(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), "recipe.example.test").build();
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            // docs/tomcat.md, "Plain HTTP": install first, then the redirect of your own plain connector.
            CertificateManager manager = AutocertTomcat.install(server.tomcat, settings);
            server.tomcat.getEngine().getPipeline().addValve(new HttpsRedirectValve(server.http, () -> server.httpsPort));
            server.start();

            List<Class<?>> valves = Arrays.stream(server.tomcat.getEngine().getPipeline().getValves()).<Class<?>>map(Object::getClass)
                    .filter(c -> c == AcmeChallengeValve.class || c == HttpsRedirectValve.class).toList();
            assertEquals(List.of(AcmeChallengeValve.class, HttpsRedirectValve.class), valves);
            String token = "recipeToken0123456789abcdefghijklmnopqrstuv";
            TestTokens.put(manager.http01Tokens(), token, token + ".thumbprint");
            try (TestHttpClient.Connection connection = TestHttpClient.http(PEBBLE.httpPort())) {
                TestHttpClient.Response challenge = connection.request("GET", Http01Tokens.PATH_PREFIX + token, "recipe.example.test");
                assertEquals(200, challenge.status());
                assertEquals(token + ".thumbprint", challenge.body());
                TestHttpClient.Response page = connection.request("GET", "/page?x=1", "recipe.example.test");
                assertEquals(308, page.status());
                assertEquals("https://recipe.example.test:" + server.httpsPort + "/page?x=1", page.header("location"));
            }
            // And the CA, which asks on the same connector, validates.
            assertNotNull(TestHttpClient.awaitVerified(server.httpsPort, "recipe.example.test", PEBBLE.issuingTrustStore()));
        }
    }

    @Test
    void installRefusesAStartedTomcat(@TempDir Path dir) throws Exception {
        try (TestTomcat server = TestTomcat.plain(dir, TestTomcat.freePort()).start()) {
            AutocertSettings settings = AutocertSettings.builder().domains("example.test").ca("https://localhost:1/dir").build();
            assertThrows(IllegalStateException.class, () -> AutocertTomcat.install(server.tomcat, settings));
        }
    }

    /** Waits until the engine holds a CA-issued certificate for {@code name}. */
    private static CertifiedKey awaitIssued(CertificateManager manager, String name) throws InterruptedException {
        long deadline = System.nanoTime() + ISSUANCE_TIMEOUT.toNanos();
        while (manager.certificate(name).orElseThrow().placeholder()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("No certificate issued for " + name + " within " + ISSUANCE_TIMEOUT);
            }
            Thread.sleep(50);
        }
        return manager.certificate(name).orElseThrow();
    }

    private static String serialHex(CertifiedKey key) {
        return key.certificate().getSerialNumber().toString(16);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(ISSUANCE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException("The test never released the held-back certificate");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
