package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import dev.autocert.testkit.StoredCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.WebServer;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * What the starter promises on every embedded server, run by one subclass per server (Tomcat
 * here, Jetty in {@code jetty-it}, which takes this class from the test-jar): an application
 * with two certificates, {@value #DOMAINS}, each obtained from Pebble through real HTTP-01
 * validation on the connector the starter adds, served on the HTTPS port by host name (SNI)
 * through the engine's key manager, renewed with nothing reloaded; challenges answered before the
 * application, everything else on the plain port redirected to HTTPS; and an application started
 * with 1,000 stored certificates. Subclasses declare {@code @SpringBootTest(classes = App.class, …)}
 * with at least {@code autocert.domains=}{@value #DOMAINS} and {@code server.address=127.0.0.1},
 * and say where their server keeps its SSL contexts ({@link #sslContexts}).
 */
abstract class ServerIntegrationTestBase {

    static final String DOMAINS = "www.example.test,example.test;api.example.test";

    private static final int THOUSAND = 1_000;

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    static Path storage;

    @DynamicPropertySource
    static void autocert(DynamicPropertyRegistry registry) {
        TestAutocert.pebbleProperties(registry, PEBBLE, storage);
        registry.add("autocert.hsts", () -> "on");
    }

    @LocalServerPort
    int port;

    @Autowired
    CertificateManager manager;

    @Autowired
    TestAutocert.RecordedEvents events;

    @Autowired
    SslBundles sslBundles;

    @Autowired
    ApplicationContext applicationContext;

    SSLContext pebbleTrust;

    @BeforeEach
    void trustPebble() throws Exception {
        pebbleTrust = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
    }

    @Test
    void servesEachCertificateFromPebbleByHostName() throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        CertifiedKey api = TestAutocert.awaitReal(manager, "api.example.test");
        assertThat(www.names()).containsExactlyInAnyOrder("www.example.test", "example.test");
        assertThat(api.names()).containsExactly("api.example.test");

        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", www.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            HttpsProbe.Response response = connection.get("/hello");
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("hello over https");
        }
        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "example.test", www.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            assertThat(connection.get("/hello").status()).isEqualTo(200);
        }
        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "api.example.test", api.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            assertThat(connection.served().getIssuerX500Principal()).isEqualTo(api.certificate().getIssuerX500Principal());
            assertThat(connection.get("/hello").status()).isEqualTo(200);
        }
        assertThat(events.types("www.example.test")).containsSubsequence("PLACEHOLDER", "OBTAINED");
        assertThat(events.types("api.example.test")).containsSubsequence("PLACEHOLDER", "OBTAINED");
    }

    /** {@code autocert.hsts=on}: the HTTPS side sends Strict-Transport-Security, the plain side never does. */
    @Test
    void sendsHstsOnHttpsResponsesOnly() throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", www.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            assertThat(connection.get("/hello").header("Strict-Transport-Security")).isEqualTo("max-age=31536000");
        }
        HttpsProbe.Response redirect = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/hello", "www.example.test");
        assertThat(redirect.status()).isEqualTo(308);
        assertThat(redirect.header("Strict-Transport-Security")).isNull();
    }

    /** Micrometer, as actuator sets it up: the certificates' expiry and the orders, read from the application's registry. */
    @Test
    void countsOrdersAndShowsExpiryInTheApplicationsMeterRegistry(@Autowired io.micrometer.core.instrument.MeterRegistry registry)
            throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        TestAutocert.awaitReal(manager, "api.example.test");

        double expiry = registry.get("autocert.certificate.expiry").tag("certificate", "www.example.test").gauge().value();
        assertThat(expiry).isCloseTo(java.time.Duration.between(java.time.Instant.now(), www.notAfter()).toSeconds(),
                org.assertj.core.data.Offset.offset(5.0));
        assertThat(registry.get("autocert.certificate.expiring").tag("certificate", "api.example.test").gauge().value()).isZero();
        assertThat(registry.get("autocert.orders").tag("outcome", "obtained").functionCounter().count()).isGreaterThanOrEqualTo(2);
        assertThat(registry.get("autocert.challenges.answered").functionCounter().count()).isGreaterThanOrEqualTo(2);
    }

    /**
     * Renews the certificate that is not the server's default, the harder case for SNI: the very
     * next handshake serves the new certificate, while the server keeps the SSL contexts it
     * started with and the {@code autocert} bundle is neither replaced nor updated.
     */
    @Test
    void renewalIsServedByTheNextHandshakeWithNothingReloaded() throws Exception {
        CertifiedKey before = TestAutocert.awaitReal(manager, "api.example.test");
        try (HttpsProbe.Connection old = HttpsProbe.awaitServed(pebbleTrust, port, "api.example.test", before.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            List<Object> contexts = sslContexts(BootTest.webServer(applicationContext));
            assertThat(contexts).isNotEmpty();
            SslBundle bundle = sslBundles.getBundle(AutocertSslBundle.NAME);
            AtomicInteger bundleUpdates = new AtomicInteger();
            sslBundles.addBundleUpdateHandler(AutocertSslBundle.NAME, updated -> bundleUpdates.incrementAndGet());

            CertifiedKey renewed = manager.renew("api.example.test").get(TestAutocert.ISSUANCE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(renewed.serial()).isNotEqualTo(before.serial());

            try (HttpsProbe.Connection next = HttpsProbe.connect(pebbleTrust, port, "api.example.test")) {
                assertThat(serial(next)).as("the first handshake after the renewal").isEqualTo(renewed.serial());
                assertThat(next.get("/hello").status()).isEqualTo(200);
            }
            assertThat(sslContexts(BootTest.webServer(applicationContext))).as("the server's SSL contexts, none rebuilt")
                    .usingElementComparator((a, b) -> a == b ? 0 : 1).containsExactlyElementsOf(contexts);
            assertThat(sslBundles.getBundle(AutocertSslBundle.NAME)).isSameAs(bundle);
            assertThat(bundleUpdates).as("updates of the autocert bundle").hasValue(0);
            // The connection opened before keeps its session and still works.
            assertThat(old.served().getSerialNumber().toString(16)).isEqualTo(before.serial());
            assertThat(old.get("/hello").status()).isEqualTo(200);
        }
        assertThat(events.types("api.example.test")).contains("RENEWED");
    }

    /**
     * One connector serves both certificates: each name gets the certificate covering it, and a
     * client that sends no SNI, or a name no certificate covers, gets the first configured.
     */
    @Test
    void sniPicksTheCertificateForEachName() throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        CertifiedKey api = TestAutocert.awaitReal(manager, "api.example.test");
        HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", www.serial(), TestAutocert.ISSUANCE_TIMEOUT).close();
        HttpsProbe.awaitServed(pebbleTrust, port, "api.example.test", api.serial(), TestAutocert.ISSUANCE_TIMEOUT).close();
        // Certificates read again: a renewal in another test may have replaced them meanwhile.
        www = manager.certificate("www.example.test").orElseThrow();
        api = manager.certificate("api.example.test").orElseThrow();

        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("api.example.test", api.serial());
        expected.put("www.example.test", www.serial());
        expected.put("example.test", www.serial());
        for (Map.Entry<String, String> entry : expected.entrySet()) {
            try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleTrust, port, entry.getKey())) {
                assertThat(serial(connection)).as("served for SNI %s", entry.getKey()).isEqualTo(entry.getValue());
            }
        }
        try (HttpsProbe.Connection noSni = HttpsProbe.connect(pebbleTrust, port, null, "www.example.test")) {
            assertThat(serial(noSni)).as("served without SNI").isEqualTo(www.serial());
        }
        try (HttpsProbe.Connection unknown = HttpsProbe.connect(pebbleTrust, port, "other.example.test", "www.example.test")) {
            assertThat(serial(unknown)).as("served for a name no certificate covers").isEqualTo(www.serial());
        }
    }

    /**
     * An application whose storage holds 1,000 valid certificates, one name each, starts with
     * all of them, ordering none, and serves any of them by SNI. Its start-up time is printed,
     * never asserted. A second application, next to this class's: its own storage and ports.
     */
    @Test
    void startsWithAThousandStoredCertificatesAndServesAnyBySni(@TempDir Path thousand) throws Exception {
        StoredCertificates stored = StoredCertificates.create();
        List<String> names = stored.storeMany(thousand, THOUSAND, "example.test", PEBBLE.directoryUrl());
        Map<String, Object> properties = new LinkedHashMap<>(PEBBLE.autocertProperties());
        properties.put("autocert.domains", String.join(";", names));
        properties.put("autocert.email", "admin@example.test");
        properties.put("autocert.storage", thousand.toString());
        properties.put("autocert.http-port", freePort()); // this class's application has Pebble's
        properties.put("server.port", 0);
        properties.put("server.address", "127.0.0.1");
        properties.put("logging.level.dev.autocert", "info");
        properties.put("spring.autoconfigure.exclude", BootTest.NO_SECURITY);

        long start = System.nanoTime();
        try (ConfigurableApplicationContext application = new SpringApplicationBuilder(App.class).properties(properties).run()) {
            Duration startUp = Duration.ofNanos(System.nanoTime() - start);
            WebServer server = BootTest.webServer(application);
            System.out.printf("%s started with %,d stored certificates in %,d ms%n", server.getClass().getSimpleName(), THOUSAND,
                    startUp.toMillis());

            CertificateManager thousandManager = application.getBean(CertificateManager.class);
            assertThat(thousandManager.certificates()).hasSize(THOUSAND).noneMatch(CertifiedKey::placeholder);
            SSLContext trust = HttpsProbe.trusting(stored.trustStore());
            List<String> probed = List.of(names.get(0), names.get(1), names.get(THOUSAND / 2), names.get(THOUSAND - 2),
                    names.get(THOUSAND - 1), names.get(new Random().nextInt(THOUSAND)));
            for (String name : probed) {
                try (HttpsProbe.Connection connection = HttpsProbe.connect(trust, server.getPort(), name)) {
                    assertThat(connection.served().getSubjectX500Principal().getName()).isEqualTo("CN=" + name);
                    assertThat(serial(connection)).isEqualTo(thousandManager.certificate(name).orElseThrow().serial());
                    assertThat(connection.get("/hello").status()).isEqualTo(200);
                }
            }
        }
    }

    /** The SSL contexts the server's HTTPS connector serves with now, each TLS configuration's. */
    abstract List<Object> sslContexts(WebServer server);

    private static String serial(HttpsProbe.Connection connection) throws IOException {
        return connection.served().getSerialNumber().toString(16);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void answersChallengesOnTheHttpPortBeforeTheApplication() throws Exception {
        HttpsProbe.Response unknown = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/.well-known/acme-challenge/unknownToken",
                "www.example.test");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body()).as("a plain 404, no error page").isEmpty();
        HttpsProbe.Response app = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/hello?x=1", "www.example.test");
        assertThat(app.status()).as("the application is not served over plain HTTP").isEqualTo(308);
        assertThat(app.header("Location")).isEqualTo("https://www.example.test:" + port + "/hello?x=1");
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(HelloController.class)
    static class App {
        @Bean
        TestAutocert.RecordedEvents recordedEvents() {
            return new TestAutocert.RecordedEvents();
        }
    }

    @RestController
    static class HelloController {
        @GetMapping("/hello")
        String hello(jakarta.servlet.http.HttpServletRequest request) {
            return "hello over " + request.getScheme();
        }
    }
}
