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
import org.eclipse.jetty.util.Jetty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.embedded.jetty.JettyWebServer;
import org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Spring Boot application on embedded Jetty (Spring Boot 3.5's Jetty 12.0) with two
 * certificates: each is obtained from Pebble through real HTTP-01 validation on the connector
 * the starter adds, served on the HTTPS port by host name (Jetty's SNI key manager, one key
 * store), and renewed without a restart through the starter's reload of Jetty's SslContextFactory.
 */
@SpringBootTest(classes = AutocertJettyIntegrationTest.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = { "autocert.domains=www.example.test,example.test;api.example.test", "server.address=127.0.0.1" })
@DirtiesContext
class AutocertJettyIntegrationTest {

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
    void runsOnSpringBootsJetty(@Autowired ServletWebServerApplicationContext context) {
        assertThat(context.getWebServer()).isInstanceOf(JettyWebServer.class);
        assertThat(Jetty.VERSION).startsWith("12.0.");
    }

    @Test
    void servesEachCertificateFromPebbleByHostName() throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        CertifiedKey api = TestAutocert.awaitReal(manager, "api.example.test");
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
            assertThat(connection.get("/hello").status()).isEqualTo(200);
        }
        assertThat(events.types("api.example.test")).containsSubsequence("PLACEHOLDER", "OBTAINED");
    }

    @Test
    void renewalSwapsTheCertificateWithoutRestart() throws Exception {
        CertifiedKey before = TestAutocert.awaitReal(manager, "www.example.test");
        try (HttpsProbe.Connection old = HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", before.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            CertifiedKey renewed = manager.renew("www.example.test").get(TestAutocert.ISSUANCE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(renewed.serial()).isNotEqualTo(before.serial());

            try (HttpsProbe.Connection fresh = HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", renewed.serial(),
                    Duration.ofSeconds(5))) {
                assertThat(fresh.get("/hello").status()).isEqualTo(200);
            }
            assertThat(old.served().getSerialNumber().toString(16)).isEqualTo(before.serial());
            assertThat(old.get("/hello").status()).isEqualTo(200);
        }
        assertThat(events.types("www.example.test")).contains("RENEWED");
    }

    @Test
    void answersChallengesOnTheHttpPortBeforeTheApplication() throws Exception {
        HttpsProbe.Response unknown = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/.well-known/acme-challenge/unknownToken",
                "www.example.test");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body()).isEmpty();
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
