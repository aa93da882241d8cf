package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.WebServer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Spring MVC on Undertow with Spring Security's defaults (every request authenticated): the
 * certificate is obtained from Pebble through Autocert's listener on {@code autocert.http-port},
 * served by SNI, renewed and served from the next handshake by the same server; plain requests
 * are redirected, HTTPS responses carry Autocert's HSTS.
 */
class UndertowServletIntegrationTest {

    private static final String PASSWORD = "undertow-test-password";

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    static Path storage;

    @Test
    void obtainsServesRenewsAndRedirectsOnUndertow() throws Exception {
        Map<String, Object> properties = new LinkedHashMap<>(PEBBLE.autocertProperties());
        properties.put("autocert.domains", "mvc.example.test");
        properties.put("autocert.email", "admin@example.test");
        properties.put("autocert.storage", storage.toString());
        properties.put("autocert.hsts", "max-age=700");
        properties.put("server.port", 0);
        properties.put("server.address", "127.0.0.1");
        properties.put("spring.security.user.name", "operator");
        properties.put("spring.security.user.password", PASSWORD);
        SSLContext pebbleTrust = HttpsProbe.trusting(PEBBLE.issuingTrustStore());

        try (ConfigurableApplicationContext application = new SpringApplicationBuilder(ServerIntegrationTestBase.App.class)
                .web(WebApplicationType.SERVLET).properties(properties).run()) {
            WebServer server = BootTest.webServer(application);
            assertThat(server.getClass().getSimpleName()).isEqualTo("UndertowServletWebServer");
            CertificateManager manager = application.getBean(CertificateManager.class);
            CertifiedKey first = TestAutocert.awaitReal(manager, "mvc.example.test");

            try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, server.getPort(), "mvc.example.test",
                    first.serial(), TestAutocert.ISSUANCE_TIMEOUT)) {
                HttpsProbe.Response denied = connection.get("/hello");
                assertThat(denied.status()).as("Spring Security guards the application").isEqualTo(401);
                assertThat(denied.header("Strict-Transport-Security")).isEqualTo("max-age=700");
                HttpsProbe.Response hello = connection.get("/hello", authorization());
                assertThat(hello.status()).isEqualTo(200);
                assertThat(hello.body()).isEqualTo("hello over https");
            }

            HttpsProbe.Response redirect = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/hello", "mvc.example.test");
            assertThat(redirect.status()).isEqualTo(308);
            assertThat(redirect.header("Location")).isEqualTo("https://mvc.example.test:" + server.getPort() + "/hello");
            assertThat(redirect.header("Strict-Transport-Security")).isNull();

            CertifiedKey renewed = manager.renew("mvc.example.test").get(TestAutocert.ISSUANCE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(renewed.serial()).isNotEqualTo(first.serial());
            // A new client: Undertow resumes TLS sessions, and a resumed session keeps the certificate it began with.
            SSLContext newClient = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
            try (HttpsProbe.Connection next = HttpsProbe.connect(newClient, server.getPort(), "mvc.example.test")) {
                assertThat(next.served().getSerialNumber().toString(16)).as("the first handshake after the renewal")
                        .isEqualTo(renewed.serial());
            }
            assertThat(BootTest.webServer(application)).as("the same server, never restarted").isSameAs(server);
        }
    }

    private static Map<String, String> authorization() {
        return Map.of("Authorization", "Basic " + Base64.getEncoder()
                .encodeToString(("operator:" + PASSWORD).getBytes(StandardCharsets.UTF_8)));
    }
}
