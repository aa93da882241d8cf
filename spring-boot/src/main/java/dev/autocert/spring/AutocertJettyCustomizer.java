package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.ChallengeType;
import dev.autocert.jetty.AcmeChallengeHandler;
import dev.autocert.jetty.HttpsRedirectHandler;
import java.net.InetAddress;
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
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.web.embedded.jetty.JettyServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/**
 * Fits embedded Jetty for Autocert: an {@link AcmeChallengeHandler} in front of the
 * application's handler, which answers HTTP-01 challenges on every connector before any
 * servlet, filter or Spring Security sees the request; a plain HTTP connector on {@code
 * autocert.http-port} (unless the server already listens there); and the reload of the HTTPS
 * connector's {@link SslContextFactory.Server} when the {@code autocert} SSL bundle is updated,
 * which Spring Boot does not do for Jetty. One key store with an alias per certificate serves
 * every certificate: Jetty's SNI key manager picks by host name.
 */
final class AutocertJettyCustomizer implements WebServerFactoryCustomizer<JettyServletWebServerFactory> {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertJettyCustomizer.class);

    private final CertificateManager manager;
    private final SslBundles sslBundles;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertJettyCustomizer(AutocertLifecycle lifecycle, CertificateManager manager, SslBundles sslBundles) {
        this.manager = manager;
        this.sslBundles = sslBundles;
    }

    @Override
    public void customize(JettyServletWebServerFactory factory) {
        boolean served = AutocertSslBundles.servedBy(factory.getSsl());
        if (!served) {
            AutocertWebServers.logNotServed(LOG, factory.getSsl());
        }
        InetAddress address = factory.getAddress();
        int port = factory.getPort();
        // Runs after Spring Boot's own SSL customizer, which replaces the server's connectors.
        factory.addServerCustomizers(server -> customize(server, address, port, served));
    }

    private void customize(Server server, InetAddress address, int port, boolean served) {
        AutocertSettings settings = manager.settings();
        if (settings.challenges().contains(ChallengeType.HTTP_01)) {
            AcmeChallengeHandler challenges = new AcmeChallengeHandler(manager.http01Tokens());
            Handler application = server.getHandler();
            if (port != settings.httpPort()) {
                HttpConfiguration config = new HttpConfiguration();
                if (port > 0) {
                    config.setSecurePort(port); // where redirects to HTTPS go
                }
                ServerConnector http = new ServerConnector(server, new HttpConnectionFactory(config));
                http.setHost(address == null ? null : address.getHostAddress());
                http.setPort(settings.httpPort());
                http.setName("autocert-http");
                // Everything but challenges on that connector goes to HTTPS, on the port the
                // HTTPS connector is bound to (known once it runs, as with server.port=0).
                IntSupplier httpsPort = () -> httpsPort(server);
                HttpsRedirectHandler redirect = new HttpsRedirectHandler(http, httpsPort);
                redirect.setHandler(application);
                application = redirect;
                server.addConnector(http);
            }
            challenges.setHandler(application);
            server.setHandler(challenges);
        }
        if (served) {
            for (Connector connector : server.getConnectors()) {
                SslConnectionFactory ssl = connector.getConnectionFactory(SslConnectionFactory.class);
                if (ssl != null) {
                    SslContextFactory.Server sslContextFactory = ssl.getSslContextFactory();
                    sslBundles.addBundleUpdateHandler(AutocertSslBundles.BUNDLE, bundle -> reload(sslContextFactory, bundle));
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

    /** Swaps the bundle's key store in; handshakes from now on see it, open connections keep theirs. */
    private static void reload(SslContextFactory.Server factory, SslBundle bundle) {
        try {
            factory.reload(f -> {
                f.setKeyStore(bundle.getStores().getKeyStore());
                f.setKeyStorePassword(bundle.getStores().getKeyStorePassword());
                f.setKeyManagerPassword(bundle.getKey().getPassword());
                f.setCertAlias(bundle.getKey().getAlias());
            });
            LOG.debug("Jetty reloaded SSL bundle '{}' into {}", AutocertSslBundles.BUNDLE, factory);
        } catch (Exception e) {
            LOG.warn("Jetty refused the new certificates of SSL bundle '{}' and keeps serving the previous ones: {}",
                    AutocertSslBundles.BUNDLE, e.toString());
        }
    }
}
