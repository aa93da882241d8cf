package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
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
     * Installs Autocert on {@code tomcat}: an {@link AutocertListener} on its server, an {@link
     * AcmeChallengeValve} on its engine (unless it has one), an HTTPS connector on port 443 unless
     * the service has one ({@code SSLEnabled} true; add your own first to choose the port), and,
     * for HTTP-01, a plain HTTP connector on {@code autocert.http-port} unless the service has
     * one. That connector listens on the first HTTPS connector's {@code address} (every interface
     * when it has none), its {@code redirectPort} is that connector's port, and an {@link
     * HttpsRedirectValve} sends every request on it that is not a challenge to HTTPS. With {@code
     * autocert.hsts}, an {@link HstsValve} adds {@code Strict-Transport-Security} to every HTTPS
     * response; with {@code autocert.status-path}, HTTPS requests for that path get the JSON status
     * page (both after the challenge valve, before the redirect). Storage
     * defaults to {@code autocert/} under the server's base directory. Valves you add to the
     * engine after this call (a redirect of your own plain connector) come after the challenge
     * valve, so challenges are answered before they see them.
     *
     * @return the engine, not yet started: it installs its certificates when Tomcat initialises,
     *         starts ordering once Tomcat has started, and stops when Tomcat is destroyed
     * @throws IllegalStateException when Tomcat was already initialised or started
     * @throws IllegalArgumentException when {@code autocert.http-port} is the port of an HTTPS
     *         connector, with HTTP-01 among the challenges
     */
    public static CertificateManager install(Tomcat tomcat, AutocertSettings settings) {
        requireNonNull(tomcat, "tomcat");
        requireNonNull(settings, "settings");
        Server server = tomcat.getServer();
        if (server.getState() != LifecycleState.NEW) {
            throw new IllegalStateException("Call AutocertTomcat.install before tomcat.start(); the server is already "
                    + server.getState());
        }
        Service service = tomcat.getService();
        boolean http01 = settings.answersHttp01();
        if (http01) {
            checkHttpPort(service, settings.httpPort());
        }
        AutocertSettings effective = settings.storageSettings().location().isPresent() ? settings
                : settings.toBuilder().storage(server.getCatalinaBase().toPath().resolve("autocert")).build();
        CertificateManager manager = CertificateManager.builder(effective).build();
        server.addLifecycleListener(new AutocertListener(manager));
        Pipeline pipeline = tomcat.getEngine().getPipeline();
        if (Arrays.stream(pipeline.getValves()).noneMatch(AcmeChallengeValve.class::isInstance)) {
            // Added now rather than when Tomcat initialises, so that valves added after this call
            // (a redirect to HTTPS, say) come after it and never see a challenge.
            pipeline.addValve(new AcmeChallengeValve(manager.http01Tokens()));
        }
        AutocertListener.addSettingValves(tomcat.getEngine(), manager);
        if (Arrays.stream(service.findConnectors()).noneMatch(SslHostConfigInstaller::isHttps)) {
            Connector https = new Connector();
            https.setPort(DEFAULT_HTTPS_PORT);
            https.setProperty("SSLEnabled", "true");
            service.addConnector(https);
        }
        if (http01) {
            Connector added = addHttpConnector(service, settings.httpPort());
            if (added != null) {
                redirectToHttps(tomcat, added, settings);
            }
        }
        return manager;
    }

    /**
     * Makes {@code connector}, an HTTPS connector not initialised yet that something else builds
     * (Spring Boot's starter), serve {@code manager}'s certificates through the engine's key
     * manager, as {@link #install} does for the connectors it finds: its default SSL host config,
     * and any for a name {@code manager} manages, serve the certificate each handshake's SNI host
     * name asks for, from what the engine serves at that moment, so later certificates need
     * nothing reloaded. Every other setting of those configs is kept; a certificate configured in
     * one is replaced, with a WARN (clear it first where that is expected).
     *
     * @throws IllegalArgumentException when {@code connector} is not an HTTPS connector
     */
    public static void installKeyManager(Connector connector, CertificateManager manager) {
        requireNonNull(connector, "connector");
        requireNonNull(manager, "manager");
        if (!SslHostConfigInstaller.isHttps(connector)) {
            throw new IllegalArgumentException("Connector on port " + connector.getPort() + " is not an HTTPS connector "
                    + "(an HTTP/1.1 connector with SSLEnabled=\"true\")");
        }
        Set<String> managedNames = manager.settings().certificates().stream().flatMap(c -> c.domains().stream())
                .map(name -> name.toLowerCase(Locale.ENGLISH)).collect(Collectors.toSet());
        SslHostConfigInstaller.install(connector, manager.keyManager(), managedNames);
    }

    /**
     * Refuses an HTTP port where an HTTPS connector listens, or will: the one {@link #install}
     * adds on 443 when there is none. Checked before anything is installed.
     */
    private static void checkHttpPort(Service service, int httpPort) {
        List<Integer> httpsPorts = Arrays.stream(service.findConnectors()).filter(SslHostConfigInstaller::isHttps)
                .map(Connector::getPort).toList();
        if (httpsPorts.isEmpty() ? httpPort == DEFAULT_HTTPS_PORT : httpsPorts.contains(httpPort)) {
            throw new IllegalArgumentException("autocert.http-port is " + httpPort + ", where an HTTPS connector "
                    + (httpsPorts.isEmpty() ? "would listen (Autocert adds one on 443 when there is none)" : "listens")
                    + "; HTTP-01 challenges need plain HTTP there (the CA always asks on port 80 in production): "
                    + "set autocert.http-port to your plain HTTP port, 80 or the port that port 80 is forwarded to");
        }
    }

    /**
     * Adds a plain connector on {@code port} unless one listens there; returns the one it added.
     * It listens where the first HTTPS connector does, so that a server kept to one address
     * (loopback behind a proxy, one of several interfaces) does not open port 80 on all of them.
     */
    private static Connector addHttpConnector(Service service, int port) {
        Connector https = null;
        for (Connector connector : service.findConnectors()) {
            if (SslHostConfigInstaller.isHttps(connector)) {
                https = https == null ? connector : https;
            } else if (connector.getPort() == port) {
                return null;
            }
        }
        Connector http = new Connector();
        http.setPort(port);
        if (https != null) {
            http.setRedirectPort(https.getPort());
            if (https.getProperty("address") instanceof InetAddress address) {
                http.setProperty("address", address.getHostAddress());
            }
        }
        service.addConnector(http);
        return http;
    }

    /**
     * Sends everything but challenges on the connector Autocert added to HTTPS, with an {@link
     * HttpsRedirectValve} after the challenge valve, aimed at {@code autocert.redirect-port}, or
     * else the port the first HTTPS connector is bound to.
     */
    private static void redirectToHttps(Tomcat tomcat, Connector plain, AutocertSettings settings) {
        Service service = tomcat.getService();
        tomcat.getEngine().getPipeline().addValve(new HttpsRedirectValve(plain, () -> settings.redirectPort().orElseGet(
                () -> Arrays.stream(service.findConnectors())
                        .filter(SslHostConfigInstaller::isHttps)
                        .mapToInt(c -> c.getLocalPort() > 0 ? c.getLocalPort() : c.getPort())
                        .findFirst().orElse(DEFAULT_HTTPS_PORT))));
    }
}
