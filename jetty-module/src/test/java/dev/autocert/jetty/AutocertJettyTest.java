package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Embedded Jetty with Autocert, against a real Pebble with real HTTP-01 validation. */
class AutocertJettyTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String A = "a.example.test";
    private static final String B = "b.example.test";

    @TempDir
    Path storage;

    private Server server;

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.stop();
        }
        PEBBLE.start(); // a test may have stopped it; does nothing when it runs
    }

    @Test
    void servesAnIpAddressCertificateToClientsThatSendNoSni() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server,
                TestServers.waitingFor(TestServers.pebble(PEBBLE, storage, "127.0.0.1;" + A)));
        server.start();
        int port = TestServers.httpsPort(server);
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
        // A client connecting to https://127.0.0.1/ sends no SNI and checks the IP address SAN.
        try (HttpsProbe.Connection ip = HttpsProbe.connect(pebbleRoots, port, null, "127.0.0.1");
                HttpsProbe.Connection named = HttpsProbe.connect(pebbleRoots, port, A, A)) {
            assertEquals(TestServers.served(autocert, "127.0.0.1").certificate(), ip.served());
            assertEquals(List.of(List.of(7, "127.0.0.1")), ip.served().getSubjectAlternativeNames().stream()
                    .map(san -> List.<Object>copyOf(san)).toList());
            assertEquals(200, ip.get("/", "127.0.0.1").status());
            assertEquals(TestServers.served(autocert, A).certificate(), named.served());
        }
    }

    @Test
    void servesTwoPebbleCertificatesOnOneConnectorChosenBySni() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server,
                TestServers.waitingFor(TestServers.pebble(PEBBLE, storage, A + ";" + B)));
        TestServers.Events events = new TestServers.Events();
        autocert.addListener(events.all::add);
        server.start();
        int port = TestServers.httpsPort(server);
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());

        try (HttpsProbe.Connection a = HttpsProbe.connect(pebbleRoots, port, A, A);
                HttpsProbe.Connection b = HttpsProbe.connect(pebbleRoots, port, B, B)) {
            assertEquals(TestServers.served(autocert, A).certificate(), a.served());
            assertEquals(TestServers.served(autocert, B).certificate(), b.served());
            assertNotEquals(a.served(), b.served());
            assertEquals("hello " + A, a.get("/", A).body());
            assertEquals("hello " + B, b.get("/", B).body());
            // Jetty's SNI host check: a Host the served certificate does not cover is refused.
            assertEquals(400, a.get("/", B).status());
        }
        assertEquals(List.of("PLACEHOLDER " + A, "PLACEHOLDER " + B), events.describe().subList(0, 2));
        assertTrue(events.describe().containsAll(List.of("OBTAINED " + A, "OBTAINED " + B)), events.describe().toString());
        assertFalse(TestServers.served(autocert, A).placeholder());
        assertEquals(PEBBLE.intermediates().get(0).getSubjectX500Principal(), TestServers.served(autocert, A).certificate().getIssuerX500Principal());
    }

    @Test
    void servesTheFirstCertificateToClientsWithoutSni() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server,
                TestServers.waitingFor(TestServers.pebble(PEBBLE, storage, A + ";" + B)));
        server.start();
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());

        try (HttpsProbe.Connection noSni = HttpsProbe.connect(pebbleRoots, TestServers.httpsPort(server), null, A)) {
            assertEquals(TestServers.served(autocert, A).certificate(), noSni.served());
            assertEquals("hello " + A, noSni.get("/", A).body());
        }
    }

    @Test
    void servesAPlaceholderUntilTheCaIssuesThenTheRealCertificate() throws Exception {
        // Pebble keeps its listener authority across stop and start, but its files go: keep a copy.
        Path trust = Files.copy(PEBBLE.trustPem(), storage.resolve("pebble-trust.pem"));
        AutocertSettings settings = TestServers.pebble(PEBBLE, storage.resolve("store"), A).caTrust(trust).build();
        PEBBLE.stop();
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, settings);
        server.start();
        int port = TestServers.httpsPort(server);

        CertifiedKey placeholder = TestServers.served(autocert, A);
        assertTrue(placeholder.placeholder());
        try (HttpsProbe.Connection early = HttpsProbe.connect(HttpsProbe.trusting(List.of(placeholder.certificate())), port, A, A)) {
            assertEquals(placeholder.certificate(), early.served());
            assertEquals("hello " + A, early.get("/", A).body());

            PEBBLE.start();
            CertifiedKey issued = autocert.manager().orElseThrow().renew(A).get(60, TimeUnit.SECONDS);

            assertFalse(issued.placeholder());
            try (HttpsProbe.Connection late = HttpsProbe.connect(HttpsProbe.trusting(PEBBLE.issuingTrustStore()), port, A, A)) {
                assertEquals(issued.certificate(), late.served());
            }
            // The connection opened before the swap keeps its session and its certificate.
            assertEquals("hello " + A, early.get("/", A).body());
            assertEquals(placeholder.certificate(), early.served());
        }
        // The placeholder is no longer served to new clients.
        assertThrows(SSLHandshakeException.class,
                () -> HttpsProbe.connect(HttpsProbe.trusting(List.of(placeholder.certificate())), port, A, A).close());
    }

    @Test
    void addsAPlainHttpConnectorThatAnswersChallengesAndRedirectsEverythingElse() throws Exception {
        server = TestServers.httpsServer();
        AutocertSettings settings = TestServers.unreachable(storage, A).build();
        AutocertJetty autocert = AutocertJetty.install(server, settings);
        server.start();

        ServerConnector http = autocert.addedHttpConnector().orElseThrow();
        assertEquals(settings.httpPort(), http.getLocalPort());
        assertEquals("127.0.0.1", http.getHost(), "bound like the HTTPS connector");
        HttpsProbe.Response page = HttpsProbe.plain(settings.httpPort(), "GET", "/docs/a%20b?x=1", A);
        assertEquals(308, page.status());
        assertEquals("https://" + A + ":" + TestServers.httpsPort(server) + "/docs/a%20b?x=1", page.header("location"));
        HttpsProbe.Response challenge = HttpsProbe.plain(settings.httpPort(), "GET", "/.well-known/acme-challenge/unknown", A);
        assertEquals(404, challenge.status());
        assertEquals("", challenge.body());
    }

    /** Behind a firewall that forwards 443 to the connector's own port, redirects name the port clients reach. */
    @Test
    void redirectsToTheRedirectPortWhenOneIsSet() throws Exception {
        server = TestServers.httpsServer();
        AutocertSettings settings = TestServers.unreachable(storage, A).redirectPort(443).build();
        AutocertJetty.install(server, settings);
        server.start();

        HttpsProbe.Response page = HttpsProbe.plain(settings.httpPort(), "GET", "/docs?x=1", A);
        assertEquals(308, page.status());
        assertEquals("https://" + A + "/docs?x=1", page.header("location"), "443, left out of the URL");
    }

    @Test
    void leavesAUsersPlainConnectorOnTheHttpPortAlone() throws Exception {
        server = TestServers.httpsServer();
        AutocertSettings settings = TestServers.unreachable(storage, A).build();
        ServerConnector own = new ServerConnector(server);
        own.setHost("127.0.0.1");
        own.setPort(settings.httpPort());
        server.addConnector(own);
        AutocertJetty autocert = AutocertJetty.install(server, settings);
        server.start();

        assertTrue(autocert.addedHttpConnector().isEmpty());
        assertEquals(2, server.getConnectors().length);
        assertEquals("hello " + A, HttpsProbe.plain(settings.httpPort(), "GET", "/", A).body());
        assertEquals(404, HttpsProbe.plain(settings.httpPort(), "GET", "/.well-known/acme-challenge/unknown", A).status());
    }

    @Test
    void putsTheChallengeHandlerInFrontOfHandlersSetAfterInstall() throws Exception {
        server = TestServers.httpsServer();
        server.setHandler((org.eclipse.jetty.server.Handler) null);
        AutocertJetty.install(server, TestServers.unreachable(storage, A).build());
        server.setHandler(new TestServers.Hello());
        server.start();

        assertInstanceOf(AcmeChallengeHandler.class, server.getHandler());
    }

    @Test
    void stopsTheEngineWithTheServerAndStartsANewOneWithIt() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.unreachable(storage, A).build());
        server.start();
        CertificateManager first = autocert.manager().orElseThrow();
        List<Connector> connectors = Arrays.asList(server.getConnectors());

        server.stop();
        assertTrue(autocert.manager().isEmpty());
        assertTrue(first.renew(A).isCompletedExceptionally(), "the engine stopped with the server");
        server.start();

        assertNotSame(first, autocert.manager().orElseThrow());
        assertEquals(connectors, Arrays.asList(server.getConnectors()), "no connector added twice");
        assertInstanceOf(AcmeChallengeHandler.class, server.getHandler());
        assertEquals(1, server.getDescendants(AcmeChallengeHandler.class).size(), "the challenge handler inserted once");
        X509Certificate served;
        try (HttpsProbe.Connection connection = HttpsProbe.connect(
                HttpsProbe.trusting(List.of(TestServers.served(autocert, A).certificate())), TestServers.httpsPort(server), A, A)) {
            served = connection.served();
        }
        assertTrue(TestServers.served(autocert, A).placeholder());
        assertEquals(TestServers.served(autocert, A).certificate(), served);
    }

    @Test
    void addsAnHttpsConnectorOnPort443WhenTheServerHasNone() throws Exception {
        server = new Server();
        ServerConnector plain = new ServerConnector(server);
        plain.setHost("127.0.0.1");
        server.addConnector(plain);
        AutocertJetty.install(server, TestServers.unreachable(storage, A).build());
        server.setDryRun(true); // shapes and starts the components, opens no port

        server.start();

        NetworkConnector https = Arrays.stream(server.getConnectors())
                .filter(c -> c.getConnectionFactory(SslConnectionFactory.class) != null)
                .map(NetworkConnector.class::cast).findFirst().orElseThrow();
        assertEquals(443, https.getPort());
        assertEquals("127.0.0.1", https.getHost());
        assertTrue(https.getConnectionFactory(HttpConnectionFactory.class) != null);
    }

    @Test
    void installsOnlyOnAStoppedServerAndOnlyOnce() throws Exception {
        server = TestServers.httpsServer();
        AutocertSettings settings = TestServers.unreachable(storage, A).build();
        AutocertJetty autocert = AutocertJetty.install(server, settings);

        assertThrows(IllegalStateException.class, () -> AutocertJetty.install(server, settings));
        assertSame(settings, autocert.settings());
        Server running = new Server();
        running.start();
        try {
            assertThrows(IllegalStateException.class, () -> AutocertJetty.install(running, settings));
        } finally {
            running.stop();
        }
    }

    @Test
    void refusesAnHttpPortWhereAnHttpsConnectorListens() throws Exception {
        server = TestServers.httpsServer();
        int port = TestServers.freePort();
        ((ServerConnector) server.getConnectors()[0]).setPort(port);
        AutocertJetty.install(server, TestServers.unreachable(storage, A).httpPort(port).build());

        Exception e = assertThrows(Exception.class, server::start);
        assertTrue(String.valueOf(e.getMessage()).contains("autocert.http-port"), e.toString());
        server = null;
    }

    @Test
    void aFailedOrderSwapsNothing() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.unreachable(storage, A).build());
        TestServers.Events events = new TestServers.Events();
        autocert.addListener(events.all::add);
        server.start();
        CertifiedKey before = TestServers.served(autocert, A);

        // The first order fails at once against the unreachable CA: a FAILED event, nothing swapped.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (events.all.stream().noneMatch(e -> e.type() == CertificateEvent.Type.FAILED) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(events.describe().contains("FAILED " + A), events.describe().toString());
        assertSame(before, TestServers.served(autocert, A));
    }
}
