package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.ChallengeType;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Automatic HTTPS for an embedded Jetty 12 {@link Server}: one call to {@link #install} and the
 * server obtains, serves and renews its certificates from an ACME CA (Let's Encrypt by default).
 *
 * <pre>{@code
 * Server server = new Server();
 * ServerConnector https = new ServerConnector(server, new SslContextFactory.Server());
 * https.setPort(443);
 * server.addConnector(https);
 * server.setHandler(myHandler);
 * AutocertJetty.install(server, AutocertSettings.builder()
 *         .domains("example.com,www.example.com").email("admin@example.com").agreeTos(true).build());
 * server.start();
 * }</pre>
 *
 * <p>When the server starts, Autocert
 * <ul>
 *   <li>adopts the {@link SslContextFactory.Server} of every HTTPS connector (one with an
 *       {@link SslConnectionFactory}): it gets an SSL context whose key manager picks each
 *       handshake's certificate from the engine, and any key store it had is not read; with no
 *       HTTPS connector it adds one on port 443;</li>
 *   <li>adds a plain HTTP connector on {@code autocert.http-port} (80 by default) unless one
 *       listens there already, when {@code autocert.challenges} has {@code http-01} (the
 *       default); requests on that connector other than ACME challenges are redirected to HTTPS.
 *       With {@code tls-alpn-01}, the CA validates through the HTTPS connector itself;</li>
 *   <li>puts an {@link AcmeChallengeHandler} in front of every handler, so HTTP-01 challenges are
 *       answered on any connector and never reach the application; with {@code autocert.hsts}, an
 *       {@link HstsHandler} in front of that, so every response on the HTTPS connectors carries
 *       {@code Strict-Transport-Security}; with {@code autocert.status-path}, the JSON
 *       {@link dev.autocert.core.StatusPage} at that path on the HTTPS connectors, behind it;</li>
 *   <li>starts its {@link CertificateManager} before the connectors open: a stored, valid
 *       certificate serves at once, otherwise a self-signed placeholder serves until the CA
 *       issues the real one (with {@code autocert.startup-wait} set, start-up waits for it
 *       instead). New and renewed certificates are served from the next handshake, with nothing
 *       in Jetty rebuilt or restarted, however many certificates there are: open connections
 *       keep their session.</li>
 * </ul>
 * Stopping the server stops the engine; starting it again starts a new one. Each handshake gets
 * the certificate for the client's SNI host name (exact, then wildcard); the first certificate
 * configured is served to clients that send no SNI or a name no certificate covers. Jetty's SNI
 * host check ({@link SecureRequestCustomizer}, on by default) then accepts every request whose
 * {@code Host} is a name of the certificate that was served.
 *
 * <p>Storage defaults to {@code autocert.storage}, or {@code ~/.autocert} when that is not set.
 * Thread-safe; settings are fixed at {@link #install}.
 */
public final class AutocertJetty extends ContainerLifeCycle {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertJetty.class);

    /** The port browsers use for {@code https://} URLs without one. */
    private static final int DEFAULT_HTTPS_PORT = 443;

    private final Server server;
    private final AutocertSettings settings;
    private final List<CertificateListener> listeners = new CopyOnWriteArrayList<>();
    private final AcmeChallengeHandler challengeHandler;
    /** With {@code autocert.hsts}, in front of the challenge handler. */
    private final HstsHandler hstsHandler;
    /** With {@code autocert.status-path}, behind the challenge handler. */
    private final StatusPageHandler statusHandler;
    private volatile CertificateManager manager;
    /** Gives every HTTPS connector's factory the engine's key manager, once. */
    private final SslContextInstaller installer;
    private volatile boolean prepared;
    private volatile ServerConnector addedHttpConnector;
    private volatile List<NetworkConnector> httpsConnectors = List.of();

    private AutocertJetty(Server server, AutocertSettings settings) {
        this.server = server;
        this.settings = settings;
        this.challengeHandler = new AcmeChallengeHandler(() -> {
            CertificateManager current = manager;
            return current == null ? null : current.http01Tokens();
        });
        this.hstsHandler = settings.hsts().map(HstsHandler::new).orElse(null);
        this.statusHandler = settings.statusPath().map(path -> new StatusPageHandler(path, settings.statusAllow(), () -> manager, Clock.systemUTC()))
                .orElse(null);
        this.installer = new SslContextInstaller(() -> {
            CertificateManager current = manager;
            return current == null ? null : current.keyManager();
        });
    }

    /**
     * Adds Autocert to {@code server}, which must not be started yet; the work is done when it
     * starts, so connectors and handlers may still be added after this call.
     *
     * @return the installed component, also a bean of the server
     * @throws IllegalStateException when the server is running or has Autocert already
     */
    public static AutocertJetty install(Server server, AutocertSettings settings) {
        requireNonNull(server, "server");
        requireNonNull(settings, "settings");
        if (!server.isStopped()) {
            throw new IllegalStateException("Install Autocert before starting the server; it is " + server.getState());
        }
        if (server.getBean(AutocertJetty.class) != null) {
            throw new IllegalStateException("Autocert is already installed on " + server);
        }
        AutocertJetty autocert = new AutocertJetty(server, settings);
        server.addBean(autocert, true);
        server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStarting(LifeCycle event) {
                autocert.prepare();
            }

            @Override
            public void lifeCycleStarted(LifeCycle event) {
                autocert.startOrdering();
            }
        });
        return autocert;
    }

    /**
     * Gives {@code factory}, the not yet started {@link SslContextFactory.Server} of an HTTPS
     * connector that something else builds (Spring Boot's starter), an SSL context whose key
     * manager serves {@code manager}'s certificates: each handshake gets the certificate for its
     * SNI host name from what the engine serves at that moment, so later certificates need
     * nothing reloaded. A key store set on the factory is no longer read; its other settings
     * apply as with {@link #install}. Call it once per factory.
     *
     * <p>TLS-ALPN-01 works through the factory's connectors only when they negotiate no ALPN of
     * Jetty's own (HTTP/2): for a connector with an {@code ALPNServerConnectionFactory}, call
     * {@link #installKeyManager(Connector, CertificateManager)} instead.
     *
     * @throws IllegalStateException when the factory's trust settings for client certificates
     *         cannot be honoured (a trust store file, a CRL path, {@code validatePeerCerts})
     */
    public static void installKeyManager(SslContextFactory.Server factory, CertificateManager manager) {
        requireNonNull(manager, "manager");
        new SslContextInstaller(manager::keyManager).install(factory);
    }

    /**
     * Makes {@code connector}, a not yet started HTTPS connector that something else builds
     * (Spring Boot's starter), serve {@code manager}'s certificates: its
     * {@link SslContextFactory.Server} gets the engine's key manager, as with
     * {@link #installKeyManager(SslContextFactory.Server, CertificateManager)}, and with
     * {@code tls-alpn-01} a CA's {@code acme-tls/1} handshake is answered ahead of Jetty's own ALPN
     * (HTTP/2), while every other client negotiates what Jetty chooses without Autocert. Call it
     * once per connector.
     *
     * @throws IllegalArgumentException when {@code connector} has no {@link SslConnectionFactory}
     * @throws IllegalStateException when the factory's trust settings for client certificates
     *         cannot be honoured (a trust store file, a CRL path, {@code validatePeerCerts})
     */
    public static void installKeyManager(Connector connector, CertificateManager manager) {
        requireNonNull(connector, "connector");
        requireNonNull(manager, "manager");
        SslConnectionFactory ssl = connector.getConnectionFactory(SslConnectionFactory.class);
        if (ssl == null || ssl.getSslContextFactory() == null) {
            throw new IllegalArgumentException(connector + " is not an HTTPS connector (it has no SslConnectionFactory)");
        }
        new SslContextInstaller(manager::keyManager).install(ssl);
    }

    /** The settings this server runs with. */
    public AutocertSettings settings() {
        return settings;
    }

    /** The engine while the server runs; a new one at each start. */
    public Optional<CertificateManager> manager() {
        return Optional.ofNullable(manager);
    }

    /** The certificates served now, real or placeholder, in the configured order; empty before start. */
    public List<CertifiedKey> certificates() {
        CertificateManager current = manager;
        return current == null ? List.of() : current.certificates();
    }

    /**
     * Adds a listener for certificate events (obtained, renewed, failed, expiring) of every engine
     * this component starts. Listeners added before the server starts also hear of the
     * certificates loaded at start-up.
     */
    public void addListener(CertificateListener listener) {
        listeners.add(requireNonNull(listener, "listener"));
        CertificateManager running = manager;
        if (running != null) {
            running.addListener(listener);
        }
    }

    /** The plain HTTP connector Autocert added for challenges, if it added one. */
    Optional<ServerConnector> addedHttpConnector() {
        return Optional.ofNullable(addedHttpConnector);
    }

    /**
     * Shapes the server just before it starts, when every connector and handler is in place:
     * whatever a user or a Jetty XML file added after {@link #install} is seen.
     */
    private synchronized void prepare() {
        List<SslConnectionFactory> factories = new ArrayList<>();
        List<NetworkConnector> secure = new ArrayList<>();
        for (Connector connector : server.getConnectors()) {
            SslConnectionFactory ssl = connector.getConnectionFactory(SslConnectionFactory.class);
            if (ssl != null && ssl.getSslContextFactory() != null) {
                factories.add(ssl);
                if (connector instanceof NetworkConnector network) {
                    secure.add(network);
                }
            }
        }
        if (factories.isEmpty()) {
            factories.add(newHttpsConnector(secure));
        }
        httpsConnectors = List.copyOf(secure);
        factories.forEach(installer::install); // once per SslContextFactory, however many connectors share it
        if (settings.answersHttp01()) {
            addHttpConnectorIfMissing();
        }
        insertHandlers();
        prepared = true;
    }

    private SslConnectionFactory newHttpsConnector(List<NetworkConnector> secure) {
        HttpConfiguration config = new HttpConfiguration();
        for (Connector connector : server.getConnectors()) {
            HttpConnectionFactory http = connector.getConnectionFactory(HttpConnectionFactory.class);
            if (http != null) {
                config = new HttpConfiguration(http.getHttpConfiguration());
                break;
            }
        }
        config.setSecureScheme("https");
        config.setSecurePort(DEFAULT_HTTPS_PORT);
        if (config.getCustomizer(SecureRequestCustomizer.class) == null) {
            config.addCustomizer(new SecureRequestCustomizer());
        }
        SslConnectionFactory ssl = new SslConnectionFactory(new SslContextFactory.Server(), HttpVersion.HTTP_1_1.asString());
        ServerConnector https = new ServerConnector(server, ssl, new HttpConnectionFactory(config));
        https.setHost(firstHost());
        https.setPort(DEFAULT_HTTPS_PORT);
        https.setName("autocert-https");
        server.addConnector(https);
        secure.add(https);
        LOG.info("The server has no HTTPS connector; Autocert added one on port {}", DEFAULT_HTTPS_PORT);
        return ssl;
    }

    private void addHttpConnectorIfMissing() {
        int port = settings.httpPort();
        checkHttpPort(server, port);
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof NetworkConnector network && network.getPort() == port) {
                return; // a plain connector the user made, or the one added at an earlier start
            }
        }
        HttpConfiguration config = new HttpConfiguration();
        ServerConnector http = new ServerConnector(server, new HttpConnectionFactory(config));
        http.setHost(httpsConnectors.isEmpty() ? firstHost() : httpsConnectors.get(0).getHost());
        http.setPort(port);
        http.setName("autocert-http");
        server.addConnector(http);
        addedHttpConnector = http;
        LOG.info("Added a plain HTTP connector on port {} for ACME HTTP-01 challenges; it redirects other requests to HTTPS",
                port);
    }

    /**
     * Refuses an {@code autocert.http-port} where one of the server's HTTPS connectors listens.
     *
     * @throws IllegalStateException naming the setting
     */
    static void checkHttpPort(Server server, int port) {
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof NetworkConnector network && network.getPort() == port
                    && connector.getConnectionFactory(SslConnectionFactory.class) != null) {
                throw new IllegalStateException("autocert.http-port is " + port + ", where an HTTPS connector listens; "
                        + "HTTP-01 challenges need plain HTTP there (the CA always asks on port 80 in production)");
            }
        }
    }

    /**
     * Puts Autocert's handlers in front of every handler, once: HSTS (so that it covers every
     * HTTPS response, challenges included), the challenge handler, the status page, and the
     * redirect of the added connector (so that the status path on plain HTTP is redirected too).
     */
    private void insertHandlers() {
        for (Handler handler = server.getHandler(); handler != null; ) {
            if (handler == challengeHandler) {
                return;
            }
            handler = handler instanceof Handler.Singleton singleton ? singleton.getHandler() : null;
        }
        // Inserted again only when a new handler replaced the chain since the last start.
        List<Handler.Wrapper> chain = new ArrayList<>();
        if (hstsHandler != null) {
            chain.add(hstsHandler);
        }
        chain.add(challengeHandler);
        if (statusHandler != null) {
            chain.add(statusHandler);
        }
        if (addedHttpConnector != null) {
            chain.add(new HttpsRedirectHandler(addedHttpConnector, this::httpsPort));
        }
        for (int i = 0; i < chain.size(); i++) {
            chain.get(i).setHandler(i + 1 < chain.size() ? chain.get(i + 1) : null);
        }
        server.insertHandler(chain.get(0));
    }

    /** Where plain requests are redirected: {@code autocert.redirect-port}, else the first HTTPS connector's port. */
    private int httpsPort() {
        if (settings.redirectPort().isPresent()) {
            return settings.redirectPort().getAsInt();
        }
        for (NetworkConnector connector : httpsConnectors) {
            int port = connector.getLocalPort() > 0 ? connector.getLocalPort() : connector.getPort();
            if (port > 0) {
                return port;
            }
        }
        return DEFAULT_HTTPS_PORT;
    }

    private String firstHost() {
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof NetworkConnector network) {
                return network.getHost();
            }
        }
        return null;
    }

    /**
     * Starts a new engine. Runs while the server starts, before its connectors open, so the first
     * certificates (stored or placeholder) are in place before any handshake.
     */
    @Override
    protected void doStart() throws Exception {
        if (!prepared) {
            prepare(); // started on its own, without the server's start
        }
        CertificateManager.Builder builder = CertificateManager.builder(settings);
        listeners.forEach(builder::listener);
        CertificateManager engine = builder.build();
        manager = engine;
        if (!settings.startupWait().isZero()) {
            startChallengeConnectorEarly();
        }
        if (settings.startupWait().isZero() && server.isStarting()) {
            // Certificates (stored or placeholder) go in now, before any handshake; ordering
            // starts once the server has started, when the CA can reach the challenge connector.
            engine.load();
            super.doStart();
            return;
        }
        try {
            engine.start(); // with startup-wait, returns once the key manager serves every real certificate
        } catch (AutocertException e) {
            manager = null;
            engine.stop();
            throw e;
        }
        super.doStart();
    }

    /**
     * With {@code autocert.startup-wait}, the CA must reach the challenge handler while start-up
     * waits, before Jetty would open its connectors; the challenge handler needs nothing else started.
     * With {@code tls-alpn-01}, the CA validates on the HTTPS connectors, so they open early too
     * (serving placeholders to other clients until the certificates arrive).
     */
    private void startChallengeConnectorEarly() throws Exception {
        boolean http01 = settings.answersHttp01();
        boolean tlsAlpn01 = settings.challenges().contains(ChallengeType.TLS_ALPN_01);
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof NetworkConnector network && !connector.isRunning()
                    && ((http01 && network.getPort() == settings.httpPort()) || (tlsAlpn01 && httpsConnectors.contains(network)))) {
                LOG.debug("Starting {} early: start-up waits up to {} for certificates", connector, settings.startupWait());
                connector.start();
            }
        }
    }

    /** Starts ordering and renewing, once the server's connectors are open; does nothing if already started. */
    private void startOrdering() {
        CertificateManager engine = manager;
        if (engine == null || engine.isStarted()) {
            return;
        }
        try {
            engine.start();
        } catch (AutocertException e) {
            LOG.error("Autocert could not start ordering certificates: {}", e.getMessage(), e);
        }
    }

    @Override
    protected void doStop() throws Exception {
        super.doStop();
        CertificateManager engine = manager;
        manager = null;
        if (engine != null) {
            engine.close(); // and the store it opened: a database's connections, Vault's lease keeper
        }
    }

    @Override
    public String toString() {
        return "AutocertJetty" + settings.certificates();
    }
}
