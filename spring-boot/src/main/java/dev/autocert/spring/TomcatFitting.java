package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.tomcat.AcmeChallengeValve;
import dev.autocert.tomcat.AutocertTomcat;
import dev.autocert.tomcat.HstsValve;
import dev.autocert.tomcat.HttpsRedirectValve;
import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.ProtocolHandler;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.Ssl;

/**
 * Fits embedded Tomcat for Autocert, on every Spring Boot version the starter is built for (each
 * has its own factory class; a small customizer per version hands this class what it needs): an
 * {@link AcmeChallengeValve} on the engine, which answers HTTP-01 challenges on every connector
 * before any context, filter or Spring Security sees the request; a plain HTTP connector on
 * {@code autocert.http-port} (unless the server already listens there); and, when the HTTPS
 * connector serves the {@code autocert} bundle, the engine's key manager on that connector,
 * installed once ({@link AutocertTomcat#installKeyManager}): one SSL host config serves every
 * certificate, picked by SNI at each handshake, and a new certificate is served from the next
 * handshake with nothing in Tomcat reloaded. With {@code autocert.hsts}, an {@link HstsValve} on
 * the engine gives every HTTPS response {@code Strict-Transport-Security}; the status page is the
 * actuator endpoint's job here.
 */
final class TomcatFitting {

    private static final Logger LOG = LoggerFactory.getLogger(TomcatFitting.class);

    /**
     * What the fitting needs of a Spring Boot Tomcat factory, whichever package it is in.
     *
     * @param port                 the main (HTTPS) connector's port, {@code server.port}
     * @param address              {@code server.address}; null for every address
     * @param ssl                  {@code server.ssl}
     * @param protocol             the protocol of the factory's own connectors, for the plain HTTP one
     * @param engineValves         adds a valve to the engine
     * @param connectors           adds a connector
     * @param connectorCustomizers adds a customizer run on each connector the factory makes, after
     *                             Spring Boot configured it
     */
    record Factory(int port, InetAddress address, Ssl ssl, String protocol, Consumer<Valve> engineValves,
            Consumer<Connector> connectors, Consumer<Consumer<Connector>> connectorCustomizers) {
    }

    private final CertificateManager manager;

    TomcatFitting(CertificateManager manager) {
        this.manager = manager;
    }

    void fit(Factory factory) {
        AutocertSettings settings = manager.settings();
        if (settings.answersHttp01()) {
            factory.engineValves().accept(new AcmeChallengeValve(manager.http01Tokens()));
            if (factory.port() != settings.httpPort()) {
                boolean tls = Ssl.isEnabled(factory.ssl()); // else TLS ends in front of the server, on 443
                Connector http = new Connector(factory.protocol());
                http.setPort(settings.httpPort());
                if (tls && factory.port() > 0) {
                    http.setRedirectPort(factory.port()); // where security constraints send plain requests
                }
                if (factory.address() != null) {
                    http.setProperty("address", factory.address().getHostAddress());
                }
                factory.connectors().accept(http);
                // Everything but challenges on that connector goes to HTTPS: autocert.redirect-port, or
                // the port the main (HTTPS) connector is bound to, known once it is (server.port=0),
                // or 443 when the server serves no TLS itself.
                AtomicReference<Connector> https = new AtomicReference<>();
                factory.connectorCustomizers().accept(https::set);
                factory.engineValves().accept(new HttpsRedirectValve(http, AutocertWebServers.redirectPort(settings, tls,
                        () -> https.get() == null ? 443 : https.get().getLocalPort())));
            }
        }
        // On HTTPS requests only (request.isSecure(), also behind a proxy when forwarded headers are on).
        settings.hsts().ifPresent(value -> factory.engineValves().accept(new HstsValve(value)));
        Ssl ssl = factory.ssl();
        if (AutocertSslBundle.servedBy(ssl)) {
            // Connector customizers run after Spring Boot has configured the connector's SSL from the bundle.
            factory.connectorCustomizers().accept(this::installKeyManager);
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
