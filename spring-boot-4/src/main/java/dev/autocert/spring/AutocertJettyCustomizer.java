package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import org.springframework.boot.jetty.JettyWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/** Spring Boot 4's embedded Jetty, servlet (Spring MVC) or reactive (WebFlux), fitted by {@link JettyFitting}. */
final class AutocertJettyCustomizer implements WebServerFactoryCustomizer<JettyWebServerFactory> {

    private final JettyFitting fitting;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertJettyCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        this.fitting = new JettyFitting(manager);
    }

    @Override
    public void customize(JettyWebServerFactory factory) {
        fitting.fit(factory.getSsl(), factory.getAddress(), factory.getPort(),
                customizer -> factory.addServerCustomizers(customizer::accept));
    }
}
