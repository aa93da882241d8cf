package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.ChallengeType;
import dev.autocert.core.Http01Tokens;
import dev.autocert.tomcat.AcmeChallengeValve;
import dev.autocert.tomcat.HttpsRedirectValve;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.catalina.connector.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.Ssl;
import org.springframework.boot.web.server.Ssl.ServerNameSslBundle;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/**
 * Fits embedded Tomcat for Autocert: an {@link AcmeChallengeValve} on the engine, which answers
 * HTTP-01 challenges on every connector before any context, filter or Spring Security sees the
 * request; a plain HTTP connector on {@code autocert.http-port} (unless the server already
 * listens there); and, with several certificates, one SSL host config per host name through
 * {@code server.ssl.server-name-bundles}, since a Tomcat SSL host config serves one certificate.
 * Tomcat reloads the bundles itself when they are updated.
 */
final class AutocertTomcatCustomizer implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertTomcatCustomizer.class);

    private final CertificateManager manager;
    private final AutocertSslBundles bundles;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertTomcatCustomizer(AutocertLifecycle lifecycle, CertificateManager manager, AutocertSslBundles bundles) {
        this.manager = manager;
        this.bundles = bundles;
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        AutocertSettings settings = manager.settings();
        if (settings.challenges().contains(ChallengeType.HTTP_01)) {
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
        Ssl ssl = factory.getSsl();
        if (!AutocertSslBundles.servedBy(ssl)) {
            AutocertWebServers.logNotServed(LOG, ssl);
        } else if (settings.certificates().size() > 1) {
            List<ServerNameSslBundle> serverNames = new ArrayList<>(ssl.getServerNameBundles());
            for (Map.Entry<String, String> entry : bundles.serverNameBundles().entrySet()) {
                if (serverNames.stream().noneMatch(s -> s.serverName().equalsIgnoreCase(entry.getKey()))) {
                    serverNames.add(new ServerNameSslBundle(entry.getKey(), entry.getValue()));
                }
            }
            ssl.setServerNameBundles(serverNames);
        }
    }
}
