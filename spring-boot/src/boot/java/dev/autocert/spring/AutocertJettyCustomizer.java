package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import org.springframework.boot.web.embedded.jetty.ConfigurableJettyWebServerFactory;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/** Spring Boot 3.5's embedded Jetty, servlet (Spring MVC) or reactive (WebFlux), fitted by {@link JettyFitting}. */
final class AutocertJettyCustomizer implements WebServerFactoryCustomizer<ConfigurableJettyWebServerFactory> {

    private final JettyFitting fitting;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertJettyCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        this.fitting = new JettyFitting(manager);
    }

    @Override
    public void customize(ConfigurableJettyWebServerFactory factory) {
        if (factory instanceof AbstractConfigurableWebServerFactory base) { // Spring Boot's servlet and reactive factories
            fitting.fit(base.getSsl(), base.getAddress(), base.getPort(),
                    customizer -> factory.addServerCustomizers(customizer::accept));
        } // else another implementation: AutocertWebServerCustomizer warns that it is not fitted
    }
}
