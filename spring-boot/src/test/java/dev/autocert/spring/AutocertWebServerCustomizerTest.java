package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.testkit.HttpsProbe;
import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;

/**
 * Which servers get Autocert's own listener on {@code autocert.http-port}, and what it answers
 * there: real requests on a real socket. A challenge answered for a real CA is in the WebFlux and
 * Undertow integration tests.
 */
class AutocertWebServerCustomizerTest {

    private CertificateManager manager;
    private ChallengeListener listener;

    private AutocertWebServerCustomizer customizer(Path storage, int httpPort, int httpsPort) {
        manager = CertificateManager.builder(AutocertSettings.builder().domains("example.test")
                .ca("https://localhost:9/dir").storage(storage).httpPort(httpPort).build()).build();
        listener = new ChallengeListener(manager.http01Tokens(), httpPort, () -> httpsPort);
        return new AutocertWebServerCustomizer(null, manager, listener);
    }

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
    }

    @Test
    void tomcatAndJettyAnswerOnTheirOwnConnector(@TempDir Path storage) throws Exception {
        customizer(storage, ServerIntegrationTestBase.freePort(), 8443).customize(BootTest.tomcatServletFactory());

        listener.start();

        assertThat(listener.isRunning()).as("no listener of Autocert's own").isFalse();
    }

    @Test
    void otherServersGetAListenerThatAnswersChallengesAndRedirectsTheRest(@TempDir Path storage) throws Exception {
        int httpPort = ServerIntegrationTestBase.freePort();
        AbstractConfigurableWebServerFactory reactive = new AbstractConfigurableWebServerFactory() {
        };
        reactive.setAddress(InetAddress.getLoopbackAddress());
        customizer(storage, httpPort, 8443).customize(reactive);

        listener.start();

        assertThat(listener.localPort()).isEqualTo(httpPort);
        HttpsProbe.Response redirect = HttpsProbe.plain(httpPort, "GET", "/account/orders?page=2", "www.example.test");
        assertThat(redirect.status()).isEqualTo(308);
        assertThat(redirect.header("Location")).isEqualTo("https://www.example.test:8443/account/orders?page=2");
        HttpsProbe.Response withPort = HttpsProbe.plain(httpPort, "GET", "/", "www.example.test:80");
        assertThat(withPort.header("Location")).isEqualTo("https://www.example.test:8443/");
        HttpsProbe.Response unknownToken = HttpsProbe.plain(httpPort, "GET", "/.well-known/acme-challenge/notAToken", "www.example.test");
        assertThat(unknownToken.status()).isEqualTo(404);
        assertThat(unknownToken.header("Location")).isNull();
        HttpsProbe.Response traversal = HttpsProbe.plain(httpPort, "GET", "/.well-known/acme-challenge/..%2F..%2Fetc%2Fpasswd",
                "www.example.test");
        assertThat(traversal.status()).isEqualTo(404);
        assertThat(HttpsProbe.plain(httpPort, "POST", "/.well-known/acme-challenge/abc", "www.example.test").status())
                .isEqualTo(405);
        HttpsProbe.Response badHost = HttpsProbe.plain(httpPort, "GET", "/", "evil.test/@other");
        assertThat(badHost.status()).isEqualTo(400);
        assertThat(badHost.header("Location")).isNull();

        listener.stop();
        assertThat(listener.isRunning()).isFalse();
    }

    @Test
    void aServerOnTheHttpPortItselfGetsNoListener(@TempDir Path storage) throws Exception {
        int httpPort = ServerIntegrationTestBase.freePort();
        AbstractConfigurableWebServerFactory plain = new AbstractConfigurableWebServerFactory() {
        };
        plain.setPort(httpPort);
        customizer(storage, httpPort, 8443).customize(plain);

        listener.start();

        assertThat(listener.isRunning()).isFalse();
    }

    @Test
    void aTakenPortIsNamedWithItsSetting(@TempDir Path storage) throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            AbstractConfigurableWebServerFactory reactive = new AbstractConfigurableWebServerFactory() {
            };
            reactive.setAddress(InetAddress.getLoopbackAddress());
            customizer(storage, taken.getLocalPort(), 8443).customize(reactive);

            org.assertj.core.api.Assertions.assertThatThrownBy(listener::start)
                    .hasMessageContaining("autocert.http-port=" + taken.getLocalPort())
                    .hasMessageContaining("Free the port");
        }
    }
}
