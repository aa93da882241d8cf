package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.WebServer;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;

/**
 * A WebFlux application with Spring Security protecting every request, on the server its module
 * puts on the classpath (Reactor Netty here, Tomcat in the starter's module, Jetty in {@code
 * jetty-it}, on Spring Boot 3.5 and 4; Undertow on 3.5; the module names it in the system property
 * {@code autocert.test.server}): its certificates are obtained from Pebble through real HTTP-01
 * validation on {@code autocert.http-port} (Autocert's own listener, or the server's connector with
 * Autocert's valve or handler in front), which no {@code WebFilter} sees; served by SNI on the HTTPS port through
 * the {@code autocert} bundle's key manager; renewed and served from the next handshake with the
 * same server still running; plain requests are redirected with 308, HTTPS responses carry HSTS,
 * and the meters and health are the servlet servers'.
 */
@SpringBootTest(classes = WebFluxIntegrationTest.SecuredApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "spring.main.web-application-type=reactive",
            "autocert.domains=www.example.test,example.test;api.example.test",
            "autocert.hsts=max-age=600",
            "server.address=127.0.0.1",
            "spring.security.user.name=operator",
            "spring.security.user.password=" + WebFluxIntegrationTest.PASSWORD,
            "management.endpoints.web.exposure.include=health,autocert",
            "management.endpoint.health.show-details=always"
        })
@DirtiesContext
class WebFluxIntegrationTest {

    static final String PASSWORD = "webflux-test-password";

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
    ApplicationContext context;

    SSLContext pebbleTrust;

    @BeforeEach
    void trustPebble() throws Exception {
        pebbleTrust = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
    }

    @Test
    void runsOnTheModulesServer() {
        assertThat(BootTest.webServer(context).getClass().getSimpleName()).isEqualTo(System.getProperty("autocert.test.server"));
    }

    @Test
    void obtainsThroughSpringSecurityAndServesEachCertificateBySni() throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        CertifiedKey api = TestAutocert.awaitReal(manager, "api.example.test");

        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", www.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            assertThat(connection.get("/hello").status()).as("Spring Security still guards the application").isEqualTo(401);
            HttpsProbe.Response hello = connection.get("/hello", authorization());
            assertThat(hello.status()).isEqualTo(200);
            assertThat(hello.body()).isEqualTo("hello over https");
        }
        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "api.example.test", api.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            assertThat(connection.served().getIssuerX500Principal()).isEqualTo(api.certificate().getIssuerX500Principal());
            assertThat(connection.get("/hello", authorization()).status()).isEqualTo(200);
        }
        try (HttpsProbe.Connection noSni = HttpsProbe.connect(pebbleTrust, port, null, "www.example.test")) {
            assertThat(noSni.served().getSerialNumber().toString(16)).as("served without SNI: the first configured")
                    .isEqualTo(manager.certificate("www.example.test").orElseThrow().serial());
        }
    }

    @Test
    void answersChallengesBeforeAnyFilterAndRedirectsTheRest() throws Exception {
        HttpsProbe.Response unknown = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/.well-known/acme-challenge/unknownToken",
                "www.example.test");
        assertThat(unknown.status()).as("a plain 404, not Spring Security's 401").isEqualTo(404);
        assertThat(unknown.body()).isEmpty();
        HttpsProbe.Response app = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/hello?x=1", "www.example.test:" + PEBBLE.httpPort());
        assertThat(app.status()).isEqualTo(308);
        assertThat(app.header("Location")).isEqualTo("https://www.example.test:" + port + "/hello?x=1");
        assertThat(app.header("Strict-Transport-Security")).as("never on plain HTTP").isNull();
    }

    @Test
    void renewalIsServedByTheNextHandshakeWithoutARestart() throws Exception {
        CertifiedKey before = TestAutocert.awaitReal(manager, "api.example.test");
        WebServer server = BootTest.webServer(context);
        try (HttpsProbe.Connection old = HttpsProbe.awaitServed(pebbleTrust, port, "api.example.test", before.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            CertifiedKey renewed = manager.renew("api.example.test").get(TestAutocert.ISSUANCE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(renewed.serial()).isNotEqualTo(before.serial());

            try (HttpsProbe.Connection next = HttpsProbe.connect(pebbleTrust, port, "api.example.test")) {
                assertThat(next.served().getSerialNumber().toString(16)).as("the first handshake after the renewal")
                        .isEqualTo(renewed.serial());
                assertThat(next.get("/hello", authorization()).status()).isEqualTo(200);
            }
            assertThat(BootTest.webServer(context)).as("the same server, never restarted").isSameAs(server);
            assertThat(old.served().getSerialNumber().toString(16)).as("the connection opened before").isEqualTo(before.serial());
            assertThat(old.get("/hello", authorization()).status()).isEqualTo(200);
        }
    }

    @Test
    void sendsHstsOnHttps() throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", www.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            assertThat(connection.get("/hello", authorization()).header("Strict-Transport-Security")).isEqualTo("max-age=600");
            assertThat(connection.get("/hello").header("Strict-Transport-Security")).as("on Spring Security's 401 too")
                    .isEqualTo("max-age=600");
        }
    }

    @Test
    void reportsHealthAndMeters(@Autowired MeterRegistry registry) throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        TestAutocert.awaitReal(manager, "api.example.test");
        assertThat(registry.get("autocert.orders").tag("outcome", "obtained").functionCounter().count()).isGreaterThanOrEqualTo(2);
        assertThat(registry.get("autocert.challenges.answered").functionCounter().count()).as("answered by Autocert's listener")
                .isGreaterThanOrEqualTo(2);
        assertThat(registry.get("autocert.certificate.expiring").tag("certificate", "www.example.test").gauge().value()).isZero();
        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", www.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            HttpsProbe.Response health = connection.get("/actuator/health/autocert", authorization());
            assertThat(health.status()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"", "\"api.example.test\"", "\"placeholder\":false");
        }
    }

    private static Map<String, String> authorization() {
        return Map.of("Authorization", "Basic " + Base64.getEncoder()
                .encodeToString(("operator:" + PASSWORD).getBytes(StandardCharsets.UTF_8)));
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(HelloController.class)
    static class SecuredApp {

        @Bean
        SecurityWebFilterChain everythingAuthenticated(ServerHttpSecurity http) {
            return http.authorizeExchange(exchanges -> exchanges.anyExchange().authenticated())
                    .httpBasic(Customizer.withDefaults())
                    .build();
        }
    }

    @RestController
    static class HelloController {
        @GetMapping("/hello")
        String hello(ServerWebExchange exchange) {
            return "hello over " + exchange.getRequest().getURI().getScheme();
        }
    }
}
