package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import java.util.function.Consumer;
import org.apache.catalina.connector.Connector;
import org.springframework.boot.web.embedded.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.web.embedded.tomcat.TomcatReactiveWebServerFactory;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/** Spring Boot 3.5's embedded Tomcat, servlet (Spring MVC) or reactive (WebFlux), fitted by {@link TomcatFitting}. */
final class AutocertTomcatCustomizer implements WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory> {

    private final TomcatFitting fitting;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertTomcatCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        this.fitting = new TomcatFitting(manager);
    }

    @Override
    public void customize(ConfigurableTomcatWebServerFactory factory) {
        Consumer<Connector> connectors;
        if (factory instanceof TomcatServletWebServerFactory servlet) {
            connectors = servlet::addAdditionalTomcatConnectors;
        } else if (factory instanceof TomcatReactiveWebServerFactory reactive) {
            connectors = reactive::addAdditionalTomcatConnectors;
        } else {
            return; // another implementation: AutocertWebServerCustomizer warns that it is not fitted
        }
        AbstractConfigurableWebServerFactory base = (AbstractConfigurableWebServerFactory) factory;
        fitting.fit(new TomcatFitting.Factory(base.getPort(), base.getAddress(), base.getSsl(),
                TomcatServletWebServerFactory.DEFAULT_PROTOCOL, factory::addEngineValves, connectors,
                customizer -> factory.addConnectorCustomizers(customizer::accept)));
    }
}
