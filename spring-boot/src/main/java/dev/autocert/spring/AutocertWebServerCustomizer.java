package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import java.net.InetAddress;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;
import org.springframework.boot.web.server.ConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/**
 * Makes every web server, servlet or reactive, wait for the engine's start-up certificates, so
 * that the {@code autocert} SSL bundle exists when the server reads it; and, for a server the
 * starter cannot add a plain connector to (WebFlux on Reactor Netty, Undertow), asks for the
 * {@link ChallengeListener} on {@code autocert.http-port}.
 */
final class AutocertWebServerCustomizer implements WebServerFactoryCustomizer<ConfigurableWebServerFactory> {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertWebServerCustomizer.class);

    /** The factories {@link TomcatFitting} and {@link JettyFitting} fit, on Spring Boot 3.5 and 4. */
    private static final Set<String> FITTED = Set.of(
            "org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory",
            "org.springframework.boot.web.embedded.jetty.JettyServletWebServerFactory",
            "org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory",
            "org.springframework.boot.jetty.servlet.JettyServletWebServerFactory");

    private final CertificateManager manager;
    private final ChallengeListener listener;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertWebServerCustomizer(AutocertLifecycle lifecycle, CertificateManager manager, ChallengeListener listener) {
        this.manager = manager;
        this.listener = listener;
    }

    @Override
    public void customize(ConfigurableWebServerFactory factory) {
        if (!manager.settings().answersHttp01() || fitted(factory.getClass())) {
            return;
        }
        int port = -1;
        InetAddress address = null;
        if (factory instanceof AbstractConfigurableWebServerFactory configurable) {
            port = configurable.getPort();
            address = configurable.getAddress();
        }
        if (port == manager.settings().httpPort()) {
            LOG.warn("The {} listens on autocert.http-port {} itself, where Autocert cannot answer HTTP-01 challenges: "
                    + "set server.port to the HTTPS port, or use autocert.challenges=dns-01",
                    factory.getClass().getSimpleName(), port);
            return;
        }
        LOG.debug("{} gets a listener of Autocert's own on port {} for HTTP-01", factory.getClass().getSimpleName(),
                manager.settings().httpPort());
        listener.listenFor(address);
    }

    private static boolean fitted(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (FITTED.contains(c.getName())) {
                return true;
            }
        }
        return false;
    }
}
