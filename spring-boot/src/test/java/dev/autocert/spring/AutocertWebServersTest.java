package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.AutocertSettings;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;
import org.springframework.boot.web.server.Ssl;
import org.springframework.context.support.StaticApplicationContext;

/** Where the plain listeners of Netty and Undertow send plain requests. */
class AutocertWebServersTest {

    private static final StaticApplicationContext NO_WEB_SERVER = new StaticApplicationContext();

    @Test
    void theRedirectPortWinsThenTheServersOwnTlsPortThen443() {
        AbstractConfigurableWebServerFactory tls = new AbstractConfigurableWebServerFactory() {
        };
        Ssl ssl = new Ssl();
        ssl.setBundle("autocert");
        tls.setSsl(ssl);
        AbstractConfigurableWebServerFactory plain = new AbstractConfigurableWebServerFactory() {
        };

        assertThat(AutocertWebServers.httpsPort(settings(443), tls, NO_WEB_SERVER).getAsInt()).isEqualTo(443);
        assertThat(AutocertWebServers.httpsPort(settings(0), tls, NO_WEB_SERVER).getAsInt())
                .as("the server's own port, -1 while it is not bound").isEqualTo(-1);
        assertThat(AutocertWebServers.httpsPort(settings(0), plain, NO_WEB_SERVER).getAsInt())
                .as("TLS ends in front of a server without its own").isEqualTo(443);
        assertThat(AutocertWebServers.httpsPort(settings(8444), plain, NO_WEB_SERVER).getAsInt()).isEqualTo(8444);
    }

    private static AutocertSettings settings(int redirectPort) {
        return AutocertSettings.builder().domains("example.test").ca("https://localhost:9/dir").storage(Path.of("unused"))
                .redirectPort(redirectPort).build();
    }
}
