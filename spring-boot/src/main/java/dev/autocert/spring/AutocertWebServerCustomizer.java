package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.ConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/**
 * Makes every web server, servlet or reactive, wait for the engine's start-up certificates, so
 * that the {@code autocert} SSL bundle exists when the server reads it; and warns when the server
 * is not one whose challenges Autocert answers (WebFlux on Netty, Undertow), where HTTP-01 cannot
 * succeed.
 */
final class AutocertWebServerCustomizer implements WebServerFactoryCustomizer<ConfigurableWebServerFactory> {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertWebServerCustomizer.class);

    /** The factories {@link AutocertTomcatCustomizer} and {@link AutocertJettyCustomizer} fit. */
    private static final Set<String> ANSWERING = Set.of(
            "org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory",
            "org.springframework.boot.web.embedded.jetty.JettyServletWebServerFactory");

    private final CertificateManager manager;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertWebServerCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        this.manager = manager;
    }

    @Override
    public void customize(ConfigurableWebServerFactory factory) {
        if (manager.settings().answersHttp01() && !answers(factory.getClass())) {
            LOG.warn("Autocert answers HTTP-01 challenges on embedded Tomcat and Jetty servlet servers only, not on {}: "
                    + "certificates cannot be obtained with http-01 unless another server answers {} on port {}",
                    factory.getClass().getSimpleName(), "/.well-known/acme-challenge/", manager.settings().httpPort());
        }
    }

    private static boolean answers(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (ANSWERING.contains(c.getName())) {
                return true;
            }
        }
        return false;
    }
}
