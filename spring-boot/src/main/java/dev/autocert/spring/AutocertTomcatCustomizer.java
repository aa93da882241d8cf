package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.tomcat.AcmeChallengeValve;
import dev.autocert.tomcat.AutocertTomcat;
import dev.autocert.tomcat.HstsValve;
import dev.autocert.tomcat.HttpsRedirectValve;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.ProtocolHandler;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.Ssl;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/**
 * Fits embedded Tomcat for Autocert: an {@link AcmeChallengeValve} on the engine, which answers
 * HTTP-01 challenges on every connector before any context, filter or Spring Security sees the
 * request; a plain HTTP connector on {@code autocert.http-port} (unless the server already
 * listens there); and, when the HTTPS connector serves the {@code autocert} bundle, the engine's
 * key manager on that connector, installed once ({@link AutocertTomcat#installKeyManager}): one
 * SSL host config serves every certificate, picked by SNI at each handshake, and a new
 * certificate is served from the next handshake with nothing in Tomcat reloaded. With {@code
 * autocert.hsts}, an {@link HstsValve} on the engine gives every HTTPS response {@code
 * Strict-Transport-Security}; the status page is the actuator endpoint's job here.
 */
final class AutocertTomcatCustomizer implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertTomcatCustomizer.class);

    private final CertificateManager manager;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertTomcatCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        this.manager = manager;
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        AutocertSettings settings = manager.settings();
        if (settings.answersHttp01()) {
            factory.addEngineValves(new AcmeChallengeValve(manager.http01Tokens()));
            if (factory.getPort() != settings.httpPort()) {
                Connector http = new Connector(TomcatServletWebServerFactory.DEFAULT_PROTOCOL);
                http.setPort(settings.httpPort());
                if (factory.getPort() > 0) {
                    http.setRedirectPort(factory.getPort()); // where security constraints send plain requests
                }
                if (factory.getAddress() != null) {
                    http.setProperty("address", factory.getAddress().getHostAddress());
                }
                factory.addAdditionalTomcatConnectors(http);
                // Everything but challenges on that connector goes to HTTPS; the port is known
                // once the main (HTTPS) connector is bound, as with server.port=0.
                AtomicReference<Connector> https = new AtomicReference<>();
                factory.addConnectorCustomizers(https::set);
                factory.addEngineValves(new HttpsRedirectValve(http, () -> https.get() == null ? 443 : https.get().getLocalPort()));
            }
        }
        // On HTTPS requests only (request.isSecure(), also behind a proxy when forwarded headers are on).
        settings.hsts().ifPresent(value -> factory.addEngineValves(new HstsValve(value)));
        Ssl ssl = factory.getSsl();
        if (AutocertSslBundle.servedBy(ssl)) {
            // Connector customizers run after Spring Boot has configured the connector's SSL from the bundle.
            factory.addConnectorCustomizers(this::installKeyManager);
        } else {
            AutocertWebServers.logNotServed(LOG, ssl);
        }
    }

    /**
     * Replaces the certificate Spring Boot put into the main connector's default SSL host config,
     * read from the bundle's key store, with the engine's key manager; the config's other
     * settings (protocols, ciphers, client authentication) stay as Spring Boot made them.
     */
    private void installKeyManager(Connector connector) {
        ProtocolHandler handler = connector.getProtocolHandler();
        if (handler instanceof AbstractHttp11Protocol<?> protocol && protocol.isSSLEnabled()) {
            for (SSLHostConfig config : protocol.findSslHostConfigs()) {
                if (config.getHostName().equalsIgnoreCase(protocol.getDefaultSSLHostConfigName())) {
                    config.getCertificates().clear(); // the bundle's, expected: no warning
                }
            }
            AutocertTomcat.installKeyManager(connector, manager);
        }
    }
}
