package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Jetty;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.boot.web.server.WebServer;
import org.springframework.test.annotation.DirtiesContext;

/**
 * {@link ServerIntegrationTestBase} on embedded Jetty (Jetty 12.0 on Spring Boot 3.5, 12.1 on Spring Boot 4), where the
 * HTTPS connector's {@code SslContextFactory} holds one SSL context with the engine's key manager.
 */
@SpringBootTest(classes = ServerIntegrationTestBase.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "autocert.domains=" + ServerIntegrationTestBase.DOMAINS,
            "server.address=127.0.0.1",
            "spring.autoconfigure.exclude=" + BootTest.NO_SECURITY // on the classpath for webflux-it's tests
        })
@DirtiesContext
class AutocertJettyIntegrationTest extends ServerIntegrationTestBase {

    @Test
    void runsOnSpringBootsJetty(@Autowired ApplicationContext context) {
        assertThat(BootTest.webServer(context)).isInstanceOf(BootTest.jettyWebServer());
        assertThat(Jetty.VERSION).startsWith(BootTest.JETTY_LINE);
    }

    @Override
    List<Object> sslContexts(WebServer server) {
        List<Object> contexts = new ArrayList<>();
        for (Connector connector : BootTest.jetty(server).getConnectors()) {
            SslConnectionFactory ssl = connector.getConnectionFactory(SslConnectionFactory.class);
            if (ssl != null) {
                contexts.add(ssl.getSslContextFactory().getSslContext());
            }
        }
        return contexts;
    }
}
