package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import org.springframework.boot.tomcat.TomcatWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/** Spring Boot 4's embedded Tomcat, servlet (Spring MVC) or reactive (WebFlux), fitted by {@link TomcatFitting}. */
final class AutocertTomcatCustomizer implements WebServerFactoryCustomizer<TomcatWebServerFactory> {

    private final TomcatFitting fitting;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertTomcatCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        this.fitting = new TomcatFitting(manager);
    }

    @Override
    public void customize(TomcatWebServerFactory factory) {
        fitting.fit(new TomcatFitting.Factory(factory.getPort(), factory.getAddress(), factory.getSsl(),
                TomcatWebServerFactory.DEFAULT_PROTOCOL, factory::addEngineValves, factory::addAdditionalConnectors,
                customizer -> factory.addConnectorCustomizers(customizer::accept)));
    }
}
