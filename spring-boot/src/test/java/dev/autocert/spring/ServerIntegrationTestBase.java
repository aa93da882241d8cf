package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
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
 * validation on the connector the starter adds, served on the HTTPS port by host name, renewed
 * without a restart; challenges answered before the application, everything else on the plain
 * port redirected to HTTPS. Subclasses declare {@code @SpringBootTest(classes = App.class, …)}
 * with at least {@code autocert.domains=}{@value #DOMAINS} and {@code server.address=127.0.0.1}.
 */
abstract class ServerIntegrationTestBase {

    static final String DOMAINS = "www.example.test,example.test;api.example.test";

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    static Path storage;

    @DynamicPropertySource
    static void autocert(DynamicPropertyRegistry registry) {
        TestAutocert.pebbleProperties(registry, PEBBLE, storage);
    }

    @LocalServerPort
    int port;

    @Autowired
    CertificateManager manager;

    @Autowired
    TestAutocert.RecordedEvents events;

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

    /** Renews the certificate that is not the server's default, the harder case for SNI. */
    @Test
    void renewalSwapsTheCertificateWithoutRestart() throws Exception {
        CertifiedKey before = TestAutocert.awaitReal(manager, "api.example.test");
        try (HttpsProbe.Connection old = HttpsProbe.awaitServed(pebbleTrust, port, "api.example.test", before.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            CertifiedKey renewed = manager.renew("api.example.test").get(TestAutocert.ISSUANCE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(renewed.serial()).isNotEqualTo(before.serial());

            try (HttpsProbe.Connection fresh = HttpsProbe.awaitServed(pebbleTrust, port, "api.example.test", renewed.serial(),
                    Duration.ofSeconds(5))) {
                assertThat(fresh.get("/hello").status()).isEqualTo(200);
            }
            // The connection opened before keeps its session and still works.
            assertThat(old.served().getSerialNumber().toString(16)).isEqualTo(before.serial());
            assertThat(old.get("/hello").status()).isEqualTo(200);
        }
        assertThat(events.types("api.example.test")).contains("RENEWED");
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
