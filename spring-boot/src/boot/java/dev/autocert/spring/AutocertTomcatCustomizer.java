package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import java.net.InetAddress;
import java.util.function.Consumer;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Connector;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.Ssl;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/** Spring Boot 3.5's embedded Tomcat, fitted by {@link TomcatFitting}. */
final class AutocertTomcatCustomizer implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    private final TomcatFitting fitting;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertTomcatCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        this.fitting = new TomcatFitting(manager);
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        fitting.fit(new TomcatFitting.Factory() {
            @Override
            public int port() {
                return factory.getPort();
            }

            @Override
            public InetAddress address() {
                return factory.getAddress();
            }

            @Override
            public Ssl ssl() {
                return factory.getSsl();
            }

            @Override
            public String protocol() {
                return TomcatServletWebServerFactory.DEFAULT_PROTOCOL;
            }

            @Override
            public void addEngineValve(Valve valve) {
                factory.addEngineValves(valve);
            }

            @Override
            public void addConnector(Connector connector) {
                factory.addAdditionalTomcatConnectors(connector);
            }

            @Override
            public void addConnectorCustomizer(Consumer<Connector> customizer) {
                factory.addConnectorCustomizers(customizer::accept);
            }
        });
    }
}
