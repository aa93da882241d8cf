package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert.status-path} on embedded Jetty, against a real Pebble, asked by real TLS clients
 * that check the chain and the host name.
 */
class StatusPageHandlerTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String A = "a.example.test";
    private static final String PATH = "/autocert-status";
    private static final String HSTS = "max-age=31536000";

    @TempDir
    Path storage;

    private Server server;
    private Server other;

    @AfterEach
    void stopServers() throws Exception {
        if (other != null) {
            other.stop();
        }
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void answersThePageOnHttpsAndRedirectsItOnPlainHttp() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.waitingFor(
                TestServers.pebble(PEBBLE, storage, A).set("status-path", PATH).set("hsts", "on")));
        server.start();
        int port = TestServers.httpsPort(server);
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());

        try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, port, A)) {
            X509Certificate served = connection.served();
            assertEquals(TestServers.served(autocert, A).certificate(), served);
            HttpsProbe.Response page = connection.get(PATH + "?pretty=1");

            assertEquals(200, page.status(), page.body());
            assertEquals("application/json", page.header("content-type"));
            assertEquals("no-store", page.header("cache-control"));
            assertEquals(HSTS, page.header("strict-transport-security"));
            assertTrue(page.body().startsWith("{\"status\":\"UP\","), page.body());
            assertTrue(page.body().contains("\"name\":\"" + A + "\""), page.body());
            assertTrue(page.body().contains("\"placeholder\":false"), page.body());
            assertTrue(page.body().contains("\"serial\":\"" + served.getSerialNumber().toString(16) + "\""), page.body());
            assertFalse(page.body().toUpperCase().contains("PRIVATE"), page.body());

            HttpsProbe.Response application = connection.get("/");
            assertEquals("hello " + A, application.body());
            assertEquals(HSTS, application.header("strict-transport-security"));
            assertNull(application.header("cache-control"));
        }
        HttpsProbe.Response head = TestServers.https(pebbleRoots, port, "HEAD", PATH, A);
        assertEquals(200, head.status());
        assertEquals("", head.body());
        HttpsProbe.Response post = TestServers.https(pebbleRoots, port, "POST", PATH, A);
        assertEquals(405, post.status());
        assertEquals("GET, HEAD", post.header("allow"));
        assertEquals(HSTS, post.header("strict-transport-security"));

        int httpPort = autocert.addedHttpConnector().orElseThrow().getLocalPort();
        HttpsProbe.Response plain = HttpsProbe.plain(httpPort, "GET", PATH, A);
        assertEquals(308, plain.status());
        assertEquals("https://" + A + ":" + port + PATH, plain.header("location"));
        assertNull(plain.header("strict-transport-security"), "never on plain HTTP");
        assertEquals("", plain.body());
    }

    @Test
    void answers503WhileACertificateIsExpiringOrNoEngineRuns() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.waitingFor(TestServers.pebble(PEBBLE, storage, A)));
        server.start();
        CertificateManager manager = autocert.manager().orElseThrow();
        CertifiedKey issued = TestServers.served(autocert, A);
        assertFalse(issued.placeholder());

        // A second server serving the same engine's certificates, whose page's clock is the test's:
        // the moment the served certificate expires, with no renewal in between, it is expiring.
        AtomicReference<CertificateManager> engine = new AtomicReference<>();
        AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
        other = new Server();
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer());
        ServerConnector https = new ServerConnector(other,
                new SslConnectionFactory(new SslContextFactory.Server(), "http/1.1"), new HttpConnectionFactory(config));
        https.setHost("127.0.0.1");
        other.addConnector(https);
        AutocertJetty.installKeyManager(https, manager);
        StatusPageHandler page = new StatusPageHandler(PATH, engine::get, new Clock() {
            @Override
            public Instant instant() {
                return now.get();
            }

            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }
        });
        page.setHandler(new TestServers.Hello());
        other.setHandler(page);
        other.start();
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());

        try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, https.getLocalPort(), A)) {
            HttpsProbe.Response none = connection.get(PATH);
            assertEquals(503, none.status());
            assertEquals("{\"status\":\"DOWN\",\"time\":\"" + now.get() + "\",\"certificates\":[]}", none.body());

            engine.set(manager);
            assertEquals(200, connection.get(PATH).status());

            now.set(issued.notAfter());
            HttpsProbe.Response expired = connection.get(PATH);
            assertEquals(503, expired.status());
            assertEquals("application/json", expired.header("content-type"));
            assertTrue(expired.body().startsWith("{\"status\":\"DOWN\","), expired.body());
            assertTrue(expired.body().contains("\"serial\":\"" + issued.serial() + "\""), expired.body());
            assertTrue(expired.body().contains("\"expiring\":true"), expired.body());
            assertNull(expired.header("strict-transport-security"), "no autocert.hsts, no header");
        }
    }

    @Test
    void withoutTheSettingThePathIsTheApplications() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.unreachable(storage, A).build());
        server.start();
        SSLContext placeholder = HttpsProbe.trusting(List.of(TestServers.served(autocert, A).certificate()));

        try (HttpsProbe.Connection connection = HttpsProbe.connect(placeholder, TestServers.httpsPort(server), A)) {
            HttpsProbe.Response response = connection.get(PATH);
            assertEquals(200, response.status());
            assertEquals("hello " + A, response.body());
            assertNull(response.header("strict-transport-security"));
        }
    }

    @Test
    void aPlaceholderIsReportedWithoutSerialAndIsHealthy() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.unreachable(storage, A).set("status-path", PATH).build());
        server.start();
        SSLContext placeholder = HttpsProbe.trusting(List.of(TestServers.served(autocert, A).certificate()));

        try (HttpsProbe.Connection connection = HttpsProbe.connect(placeholder, TestServers.httpsPort(server), A)) {
            HttpsProbe.Response page = connection.get(PATH);
            assertEquals(200, page.status(), page.body());
            assertTrue(page.body().contains("\"placeholder\":true"), page.body());
            assertTrue(page.body().contains("\"serial\":null"), page.body());
            assertTrue(page.body().contains("\"waiting\":[\"" + A + "\"]"), page.body());
            assertEquals("hello " + A, connection.get(PATH + "/more").body(), "only the exact path");
        }
    }

    @Test
    void aClientStatusAllowDoesNotNameGetsAPlain404() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.unreachable(storage, A).set("status-path", PATH)
                .set("status-allow", "10.0.0.0/8, 2001:db8::/32").build());
        server.start();
        SSLContext placeholder = HttpsProbe.trusting(List.of(TestServers.served(autocert, A).certificate()));

        try (HttpsProbe.Connection connection = HttpsProbe.connect(placeholder, TestServers.httpsPort(server), A)) {
            HttpsProbe.Response page = connection.get(PATH);
            assertEquals(404, page.status(), "127.0.0.1 is not in 10.0.0.0/8");
            assertEquals("", page.body());
        }
    }
}
