package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.PortMapper;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Spring Security protecting every request and redirecting plain HTTP to HTTPS does not stop
 * HTTP-01: the challenge valve answers before any filter, so the certificate is obtained and
 * served, while the application's own requests stay protected.
 */
@SpringBootTest(classes = SpringSecurityIntegrationTest.SecuredApp.class,
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = { "autocert.domains=secure.example.test", "server.address=127.0.0.1" })
@DirtiesContext
class SpringSecurityIntegrationTest {

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

    @Test
    void certificateIsObtainedThroughTheSecuredApplication() throws Exception {
        CertifiedKey key = TestAutocert.awaitReal(manager, "secure.example.test");
        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(HttpsProbe.trusting(PEBBLE.issuingTrustStore()), port,
                "secure.example.test", key.serial(), TestAutocert.ISSUANCE_TIMEOUT)) {
            assertThat(connection.get("/hello").status()).isEqualTo(401);
        }
    }

    @Test
    void plainHttpIsRedirectedButChallengesAreNot() throws Exception {
        // As a browser sends it: the port in Host, since it is not 80.
        HttpsProbe.Response app = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/hello", "secure.example.test:" + PEBBLE.httpPort());
        assertThat(app.status()).as("Autocert redirects before Spring Security sees the request").isEqualTo(308);
        assertThat(app.header("Location")).isEqualTo("https://secure.example.test:" + port + "/hello");

        HttpsProbe.Response challenge = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/.well-known/acme-challenge/notAToken",
                "secure.example.test");
        assertThat(challenge.status()).isEqualTo(404);
        assertThat(challenge.header("Location")).isNull();
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(HelloController.class)
    static class SecuredApp {

        @Bean
        SecurityFilterChain everythingAuthenticatedOverHttps(HttpSecurity http,
                ApplicationContext context) throws Exception {
            // Maps the plain port to the HTTPS port, both known only once the server runs.
            PortMapper ports = new PortMapper() {
                @Override
                public Integer lookupHttpPort(Integer httpsPort) {
                    return PEBBLE.httpPort();
                }

                @Override
                public Integer lookupHttpsPort(Integer httpPort) {
                    return BootTest.webServer(context).getPort();
                }
            };
            return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                    .httpBasic(Customizer.withDefaults())
                    .portMapper(mapper -> mapper.portMapper(ports))
                    .redirectToHttps(Customizer.withDefaults())
                    .build();
        }
    }

    @RestController
    static class HelloController {
        @GetMapping("/hello")
        String hello() {
            return "hello";
        }
    }
}
