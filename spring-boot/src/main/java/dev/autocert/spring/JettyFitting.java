package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.jetty.AcmeChallengeHandler;
import dev.autocert.jetty.AutocertJetty;
import dev.autocert.jetty.HstsHandler;
import dev.autocert.jetty.HttpsRedirectHandler;
import java.net.InetAddress;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.Ssl;

/**
 * Fits embedded Jetty for Autocert, on every Spring Boot version the starter is built for (each
 * has its own factory class; a small customizer per version hands this class what it needs): an {@link AcmeChallengeHandler} in front of the
 * application's handler, which answers HTTP-01 challenges on every connector before any
 * servlet, filter or Spring Security sees the request; a plain HTTP connector on {@code
 * autocert.http-port} (unless the server already listens there); and, when the HTTPS connector
 * serves the {@code autocert} bundle, an SSL context holding the engine's key manager for its
 * {@link SslContextFactory.Server}, installed once ({@link AutocertJetty#installKeyManager(Connector,
 * CertificateManager)}): it picks every handshake's certificate by SNI, a new certificate is served
 * from the next handshake with nothing in Jetty reloaded, and TLS-ALPN-01 works with HTTP/2 too.
 * With {@code autocert.hsts}, an {@link HstsHandler} in front of everything adds
 * {@code Strict-Transport-Security} to every response on the HTTPS connector, never on plain HTTP.
 * ({@code autocert.status-path} is for plain Jetty: on Spring Boot the actuator endpoint
 * {@code autocert} shows the same.)
 */
final class JettyFitting {

    private static final Logger LOG = LoggerFactory.getLogger(JettyFitting.class);

    private final CertificateManager manager;

    JettyFitting(CertificateManager manager) {
        this.manager = manager;
    }

    /**
     * Fits the server a factory with these settings makes.
     *
     * @param addServerCustomizer adds a customizer the factory runs on its server once Spring
     *                            Boot's own SSL customizer has replaced the server's connectors
     */
    void fit(Ssl ssl, InetAddress address, int port, Consumer<Consumer<Server>> addServerCustomizer) {
        boolean served = AutocertSslBundle.servedBy(ssl);
        if (!served) {
            AutocertWebServers.logNotServed(LOG, ssl);
        }
        boolean tls = Ssl.isEnabled(ssl);
        addServerCustomizer.accept(server -> customize(server, address, port, tls, served));
    }

    private void customize(Server server, InetAddress address, int port, boolean tls, boolean served) {
        AutocertSettings settings = manager.settings();
        if (settings.answersHttp01()) {
            AcmeChallengeHandler challenges = new AcmeChallengeHandler(manager.http01Tokens());
            Handler application = server.getHandler();
            if (port != settings.httpPort()) {
                HttpConfiguration config = new HttpConfiguration();
                if (tls && port > 0) {
                    config.setSecurePort(port); // where Jetty's own redirects to HTTPS go
                }
                ServerConnector http = new ServerConnector(server, new HttpConnectionFactory(config));
                http.setHost(address == null ? null : address.getHostAddress());
                http.setPort(settings.httpPort());
                http.setName("autocert-http");
                // Everything but challenges on that connector goes to HTTPS, on the port the
                // HTTPS connector is bound to (known once it runs, as with server.port=0).
                IntSupplier httpsPort = AutocertWebServers.redirectPort(settings, tls, () -> httpsPort(server));
                HttpsRedirectHandler redirect = new HttpsRedirectHandler(http, httpsPort);
                redirect.setHandler(application);
                application = redirect;
                server.addConnector(http);
            }
            challenges.setHandler(application);
            server.setHandler(challenges);
        }
        settings.hsts().ifPresent(value -> {
            // Outermost, so that every response on the HTTPS connector has it, Jetty's error pages too.
            HstsHandler hsts = new HstsHandler(value);
            hsts.setHandler(server.getHandler());
            server.setHandler(hsts);
        });
        if (served) {
            for (Connector connector : server.getConnectors()) {
                if (connector.getConnectionFactory(SslConnectionFactory.class) != null) {
                    // Spring Boot configured it from the bundle's key store, which it now no longer
                    // reads; with server.http2.enabled, TLS-ALPN-01 goes ahead of its ALPN.
                    AutocertJetty.installKeyManager(connector, manager);
                }
            }
        }
    }

    /** The local port of the server's first TLS connector; 443 until it is bound. */
    private static int httpsPort(Server server) {
        for (Connector connector : server.getConnectors()) {
            if (connector.getConnectionFactory(SslConnectionFactory.class) != null && connector instanceof NetworkConnector network
                    && network.getLocalPort() > 0) {
                return network.getLocalPort();
            }
        }
        return 443;
    }
}
