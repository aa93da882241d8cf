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
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * An application whose server serves no TLS itself ({@code server.ssl.enabled=false}: TLS ends in
 * a proxy in front of it, on 443): challenges are still answered on {@code autocert.http-port},
 * and everything else there is redirected to HTTPS on 443, not to the server's own plain port.
 */
@SpringBootTest(classes = ServerIntegrationTestBase.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "autocert.domains=front.example.test",
            "server.address=127.0.0.1",
            "server.ssl.enabled=false",
            "spring.autoconfigure.exclude=" + BootTest.NO_SECURITY
        })
@DirtiesContext
class TlsInFrontIntegrationTest {

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
    void obtainsTheCertificateAndRedirectsPlainRequestsTo443() throws Exception {
        CertifiedKey key = TestAutocert.awaitReal(manager, "front.example.test");
        assertThat(key.names()).containsExactly("front.example.test");

        HttpsProbe.Response app = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/hello?x=1", "front.example.test:" + PEBBLE.httpPort());
        assertThat(app.status()).isEqualTo(308);
        assertThat(app.header("Location")).as("the proxy's 443, not this server's plain port " + port)
                .isEqualTo("https://front.example.test/hello?x=1");
        assertThat(HttpsProbe.plain(port, "GET", "/hello", "front.example.test").status())
                .as("the server's own port serves the application in plain HTTP, for the proxy").isEqualTo(200);
    }
}
