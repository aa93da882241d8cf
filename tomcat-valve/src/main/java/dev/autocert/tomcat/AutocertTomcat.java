package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.ChallengeType;
import java.util.Arrays;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Server;
import org.apache.catalina.Service;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * Adds Autocert to an embedded Tomcat in one call, before {@code tomcat.start()}.
 *
 * <pre>{@code
 * Tomcat tomcat = new Tomcat();
 * Connector https = new Connector();        // optional: HTTPS on 443 is added when there is none
 * https.setPort(8443);
 * https.setProperty("SSLEnabled", "true");  // no certificate: Autocert supplies it
 * tomcat.getService().addConnector(https);
 * AutocertTomcat.install(tomcat, AutocertSettings.builder()
 *         .domains("example.com,www.example.com").email("admin@example.com").agreeTos(true).build());
 * tomcat.start();
 * }</pre>
 */
public final class AutocertTomcat {

    /** The HTTPS port used when the service has no HTTPS connector. */
    static final int DEFAULT_HTTPS_PORT = 443;

    private AutocertTomcat() {
    }

    /**
     * Installs Autocert on {@code tomcat}: an {@link AutocertListener} on its server (which adds
     * an {@link AcmeChallengeValve} to its engine), an HTTPS connector on port 443 unless the
     * service has one ({@code SSLEnabled} true; add your own first to choose the port), and, for
     * HTTP-01, a plain HTTP connector on {@code autocert.http-port} unless the service has one
     * (its {@code redirectPort} is the first HTTPS connector's port). Storage defaults to {@code
     * autocert/} under the server's base directory.
     *
     * @return the engine, not yet started: it installs its certificates when Tomcat initialises,
     *         starts ordering once Tomcat has started, and stops when Tomcat is destroyed
     * @throws IllegalStateException when Tomcat was already initialised or started
     */
    public static CertificateManager install(Tomcat tomcat, AutocertSettings settings) {
        requireNonNull(tomcat, "tomcat");
        requireNonNull(settings, "settings");
        Server server = tomcat.getServer();
        if (server.getState() != LifecycleState.NEW) {
            throw new IllegalStateException("Call AutocertTomcat.install before tomcat.start(); the server is already "
                    + server.getState());
        }
        AutocertSettings effective = settings.storage().isPresent() ? settings
                : settings.toBuilder().storage(server.getCatalinaBase().toPath().resolve("autocert")).build();
        CertificateManager manager = CertificateManager.builder(effective).build();
        server.addLifecycleListener(new AutocertListener(manager));
        Service service = tomcat.getService();
        if (Arrays.stream(service.findConnectors()).noneMatch(SslHostConfigInstaller::isHttps)) {
            Connector https = new Connector();
            https.setPort(DEFAULT_HTTPS_PORT);
            https.setProperty("SSLEnabled", "true");
            service.addConnector(https);
        }
        if (settings.challenges().contains(ChallengeType.HTTP_01)) {
            Connector added = addHttpConnector(service, settings.httpPort());
            if (added != null) {
                redirectToHttps(tomcat, manager, added);
            }
        }
        return manager;
    }

    /** Adds a plain connector on {@code port} unless one listens there; returns the one it added. */
    private static Connector addHttpConnector(Service service, int port) {
        Integer httpsPort = null;
        for (Connector connector : service.findConnectors()) {
            if (SslHostConfigInstaller.isHttps(connector)) {
                httpsPort = httpsPort == null ? connector.getPort() : httpsPort;
            } else if (connector.getPort() == port) {
                return null;
            }
        }
        Connector http = new Connector();
        http.setPort(port);
        if (httpsPort != null) {
            http.setRedirectPort(httpsPort);
        }
        service.addConnector(http);
        return http;
    }

    /**
     * Sends everything but challenges on the connector Autocert added to HTTPS: the challenge
     * valve first (unless the engine has one), then {@link HttpsRedirectValve}, aimed at the
     * port the first HTTPS connector is bound to.
     */
    private static void redirectToHttps(Tomcat tomcat, CertificateManager manager, Connector plain) {
        Pipeline pipeline = tomcat.getEngine().getPipeline();
        if (Arrays.stream(pipeline.getValves()).noneMatch(AcmeChallengeValve.class::isInstance)) {
            pipeline.addValve(new AcmeChallengeValve(manager.http01Tokens()));
        }
        Service service = tomcat.getService();
        pipeline.addValve(new HttpsRedirectValve(plain, () -> Arrays.stream(service.findConnectors())
                .filter(SslHostConfigInstaller::isHttps)
                .mapToInt(c -> c.getLocalPort() > 0 ? c.getLocalPort() : c.getPort())
                .findFirst().orElse(DEFAULT_HTTPS_PORT)));
    }
}
