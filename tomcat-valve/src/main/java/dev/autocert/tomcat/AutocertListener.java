package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.InvalidSettingException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.catalina.Engine;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleEvent;
import org.apache.catalina.LifecycleListener;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Server;
import org.apache.catalina.Service;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Autocert inside Tomcat: a {@code <Listener>} of the {@code <Server>} that obtains,
 * renews and installs certificates for the HTTPS connectors.
 *
 * <pre>{@code
 * <Server port="8005" shutdown="SHUTDOWN">
 *   <Listener className="dev.autocert.tomcat.AutocertListener"
 *             domains="example.com,www.example.com" email="admin@example.com" agreeTos="true"/>
 * }</pre>
 *
 * <p>Attributes are the {@code autocert.*} settings in camel case ({@code agreeTos} is
 * {@code autocert.agree-tos}); {@code ${name}} system properties work as anywhere in
 * server.xml. {@code storage} defaults to {@code $CATALINA_BASE/autocert}; relative {@code storage},
 * {@code caTrust} and {@code dnsCredentials} paths are resolved against {@code $CATALINA_BASE}. An invalid value fails
 * Tomcat's start-up with a message naming the attribute.
 *
 * <p>Before the connectors initialise, the listener adds an {@link AcmeChallengeValve} to each
 * {@code <Engine>} that has none and gives every connector with {@code SSLEnabled="true"} the
 * engine's key manager, which serves the stored certificates, or self-signed placeholders until
 * the real ones arrive, without touching the network; so an HTTPS connector needs no certificate
 * of its own. Once Tomcat has started and can answer the CA's challenges, the engine orders what
 * is missing and renews what is due, and the next handshake after a change gets the new
 * certificate, with nothing in Tomcat reloaded. HTTP-01 needs a plain HTTP connector
 * on {@code httpPort}; the listener warns at start-up when there is none, or when there is no
 * HTTPS connector. The engine stops when the server is destroyed.
 *
 * <p>With {@code hsts="on"} (or a header value), the listener also adds an {@link HstsValve} to
 * each engine, which gives every HTTPS response {@code Strict-Transport-Security}; with {@code
 * statusPath="/autocert-status"}, a valve answering HTTPS {@code GET}s of that path with the JSON
 * status page of the certificates ({@code 503} while one is expiring).
 */
public final class AutocertListener implements LifecycleListener {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertListener.class);

    /** Attribute name (camel case) to setting name (kebab case), for every setting. */
    private static final Map<String, String> ATTRIBUTES = attributes();
    /** How many certificates the start-up log line names. */
    private static final int SUMMARY_LIMIT = 10;
    /** The settings that name files; relative ones are resolved against {@code $CATALINA_BASE}. */
    private static final Set<String> PATHS = Set.of("storage", "ca-trust", "dns-credentials", "vault-token-file",
            "vault-secret-id-file", "vault-ca-cert");

    /** Values set from server.xml, by setting name; empty when built by {@link AutocertTomcat}. */
    private final Map<String, String> values = new LinkedHashMap<>();
    private CertificateManager manager;
    private boolean loaded;
    private boolean started;

    /** A listener whose settings come from its attributes (server.xml). */
    public AutocertListener() {
    }

    /** A listener running {@code manager}, made by {@link AutocertTomcat#install}. */
    AutocertListener(CertificateManager manager) {
        this.manager = requireNonNull(manager, "manager");
    }

    /** Sets {@code autocert.domains}: commas separate the names of one certificate, semicolons separate certificates. */
    public void setDomains(String value) {
        values.put("domains", value);
    }

    /** Sets {@code autocert.email}, the ACME account's contact address. */
    public void setEmail(String value) {
        values.put("email", value);
    }

    /** Sets {@code autocert.agree-tos}: {@code true} accepts the CA's terms of service. */
    public void setAgreeTos(String value) {
        values.put("agree-tos", value);
    }

    /**
     * Sets {@code autocert.ca}: {@code letsencrypt}, {@code letsencrypt-staging}, {@code zerossl},
     * {@code google} or a directory URL; several, separated by commas, to fall back on in order.
     */
    public void setCa(String value) {
        values.put("ca", value);
    }

    /** Sets {@code autocert.ca-trust}, a PEM file trusted for the CA's HTTPS; a relative path is under {@code $CATALINA_BASE}. */
    public void setCaTrust(String value) {
        values.put("ca-trust", value);
    }

    /** Sets {@code autocert.storage}; a relative path is under {@code $CATALINA_BASE}, and {@code $CATALINA_BASE/autocert} when not set. */
    public void setStorage(String value) {
        values.put("storage", value);
    }

    /** Sets {@code autocert.key-type}: {@code ec-p256}, {@code ec-p384}, {@code rsa-2048}, {@code rsa-3072} or {@code rsa-4096}. */
    public void setKeyType(String value) {
        values.put("key-type", value);
    }

    /** Sets {@code autocert.challenges}, the challenge types in order of preference. */
    public void setChallenges(String value) {
        values.put("challenges", value);
    }

    /** Sets {@code autocert.http-port}, where a plain HTTP connector answers HTTP-01. */
    public void setHttpPort(String value) {
        values.put("http-port", value);
    }

    /**
     * Sets {@code autocert.redirect-port}: the HTTPS port, as clients reach it, that plain requests
     * on the connector Autocert adds are redirected to (a connector of yours redirects to its own
     * {@code redirectPort}).
     */
    public void setRedirectPort(String value) {
        values.put("redirect-port", value);
    }

    /** Sets {@code autocert.profile}, the ACME profile to ask for. */
    public void setProfile(String value) {
        values.put("profile", value);
    }

    /** Sets {@code autocert.profile-required}: {@code true} fails an order when the CA does not offer the profile. */
    public void setProfileRequired(String value) {
        values.put("profile-required", value);
    }

    /** Sets {@code autocert.on-demand}: names or {@code *.example.com} patterns that get a certificate at their first handshake. */
    public void setOnDemand(String value) {
        values.put("on-demand", value);
    }

    /** Sets {@code autocert.on-demand-ask}: the URL that must answer 200 to {@code ?domain=NAME} before an on-demand order. */
    public void setOnDemandAsk(String value) {
        values.put("on-demand-ask", value);
    }

    /** Sets {@code autocert.eab-kid}, the external account binding key id. */
    public void setEabKid(String value) {
        values.put("eab-kid", value);
    }

    /** Sets {@code autocert.eab-hmac-key}, the external account binding HMAC key. Secret. */
    public void setEabHmacKey(String value) {
        values.put("eab-hmac-key", value);
    }

    /** Sets {@code autocert.preferred-chain}, the issuer common name of the chain to prefer. */
    public void setPreferredChain(String value) {
        values.put("preferred-chain", value);
    }

    /** Sets {@code autocert.startup-wait}: how long Tomcat's start-up waits for real certificates. */
    public void setStartupWait(String value) {
        values.put("startup-wait", value);
    }

    /** Sets {@code autocert.dns-provider}: the DNS-01 provider, such as {@code rfc2136} or {@code cloudflare} (needs the autocert-dns jars in lib/). */
    public void setDnsProvider(String value) {
        values.put("dns-provider", value);
    }

    /** Sets {@code autocert.dns-credentials}: the provider's credentials file (mode 0600): Certbot's INI keys or lego's variable names. */
    public void setDnsCredentials(String value) {
        values.put("dns-credentials", value);
    }

    /** Sets {@code autocert.dns-credentials-permissions}: {@code strict} refuses a credentials file others may read; {@code warn} only warns. */
    public void setDnsCredentialsPermissions(String value) {
        values.put("dns-credentials-permissions", value);
    }

    /** Sets {@code autocert.dns-propagation-timeout}: how long to wait for the TXT record to be visible ({@code 120s}, {@code 2m}). */
    public void setDnsPropagationTimeout(String value) {
        values.put("dns-propagation-timeout", value);
    }

    /** Sets {@code autocert.dns-polling-interval}: how often to look for the TXT record meanwhile. */
    public void setDnsPollingInterval(String value) {
        values.put("dns-polling-interval", value);
    }

    /** Sets {@code autocert.dns-ttl}: the TXT record's time to live, in seconds. */
    public void setDnsTtl(String value) {
        values.put("dns-ttl", value);
    }

    /** Sets {@code autocert.dns-resolvers}: {@code host[:port]} of the resolvers to ask, separated by commas; empty for the system's. */
    public void setDnsResolvers(String value) {
        values.put("dns-resolvers", value);
    }

    /** Sets {@code autocert.dns-propagation-check}: {@code authoritative} (the zone's name servers), {@code resolvers} or {@code none}. */
    public void setDnsPropagationCheck(String value) {
        values.put("dns-propagation-check", value);
    }

    /** Sets {@code autocert.storage-username}: the PostgreSQL user when {@code storage} is a {@code jdbc:postgresql:} URL. */
    public void setStorageUsername(String value) {
        values.put("storage-username", value);
    }

    /**
     * Sets {@code autocert.storage-password}: the PostgreSQL password. Prefer {@code
     * ${env.NAME}}-style substitution or the {@code PGPASSWORD} variable to a literal in server.xml.
     */
    public void setStoragePassword(String value) {
        values.put("storage-password", value);
    }

    /** Sets {@code autocert.vault-token-file}: a file holding the Vault token (else {@code VAULT_TOKEN}). */
    public void setVaultTokenFile(String value) {
        values.put("vault-token-file", value);
    }

    /** Sets {@code autocert.vault-role-id}: the AppRole role ID to log in to Vault with. */
    public void setVaultRoleId(String value) {
        values.put("vault-role-id", value);
    }

    /** Sets {@code autocert.vault-secret-id-file}: a file holding the AppRole secret ID. */
    public void setVaultSecretIdFile(String value) {
        values.put("vault-secret-id-file", value);
    }

    /** Sets {@code autocert.vault-ca-cert}: PEM certificates to trust for Vault's HTTPS. */
    public void setVaultCaCert(String value) {
        values.put("vault-ca-cert", value);
    }

    /** Sets {@code autocert.manual-auth-hook}: a shell command run for each HTTP-01 challenge, as Certbot's {@code --manual-auth-hook}. */
    public void setManualAuthHook(String value) {
        values.put("manual-auth-hook", value);
    }

    /** Sets {@code autocert.manual-cleanup-hook}: the shell command that removes what the auth hook made. */
    public void setManualCleanupHook(String value) {
        values.put("manual-cleanup-hook", value);
    }

    /**
     * Sets {@code autocert.deploy-hook}: a shell command run after each new certificate, with {@code
     * RENEWED_LINEAGE} and {@code RENEWED_DOMAINS}, as Certbot's {@code --deploy-hook} (to reload a
     * web server that reads {@code live/}).
     */
    public void setDeployHook(String value) {
        values.put("deploy-hook", value);
    }

    /**
     * Sets {@code autocert.notify-command}: a shell command run when a certificate is obtained or
     * renewed, an order fails, or a certificate is expiring, with the event and the name as {@code
     * $1} and {@code $2} (as mod_md's {@code MDMessageCmd}).
     */
    public void setNotifyCommand(String value) {
        values.put("notify-command", value);
    }

    /**
     * Sets {@code autocert.placeholder-alert}: how long a certificate's self-signed placeholder may
     * be served before it counts as expiring ({@code 1h} unless set; {@code 0} turns it off).
     */
    public void setPlaceholderAlert(String value) {
        values.put("placeholder-alert", value);
    }

    /** Sets {@code autocert.status-path}: where HTTPS requests get the JSON status page, such as {@code /autocert-status}. */
    public void setStatusPath(String value) {
        values.put("status-path", value);
    }

    /** Sets {@code autocert.status-allow}: who may read the status page, such as {@code 127.0.0.1, 10.0.0.0/8}; loopback by default. */
    public void setStatusAllow(String value) {
        values.put("status-allow", value);
    }

    /** Sets {@code autocert.hsts}: {@code on}, or a {@code Strict-Transport-Security} value the HTTPS side adds. */
    public void setHsts(String value) {
        values.put("hsts", value);
    }

    @Override
    public void lifecycleEvent(LifecycleEvent event) {
        switch (event.getType()) {
            case Lifecycle.BEFORE_INIT_EVENT -> {
                if (!(event.getLifecycle() instanceof Server server)) {
                    throw new IllegalStateException("AutocertListener belongs directly inside <Server> in server.xml, not in "
                            + event.getLifecycle());
                }
                load(server);
            }
            case Lifecycle.AFTER_START_EVENT -> start();
            case Lifecycle.AFTER_DESTROY_EVENT -> stop();
            default -> {
            }
        }
    }

    /** The engine, once the server has initialised (or from the start, when made by {@link AutocertTomcat}). */
    synchronized CertificateManager manager() {
        return manager;
    }

    /**
     * The settings from this listener's attributes, with storage defaulting to
     * {@code catalinaBase/autocert} and relative paths resolved against {@code catalinaBase}.
     *
     * @throws IllegalArgumentException naming the attribute at fault
     */
    AutocertSettings settings(Path catalinaBase) {
        AutocertSettings.Builder builder = AutocertSettings.builder();
        try {
            values.forEach((name, value) -> builder.set(name, PATHS.contains(name) ? resolve(catalinaBase, value) : value));
            if (values.getOrDefault("storage", "").isBlank()) {
                builder.storage(catalinaBase.resolve("autocert"));
            }
            return builder.build();
        } catch (InvalidSettingException e) {
            String setting = e.setting().substring(AutocertSettings.PREFIX.length());
            String attribute = ATTRIBUTES.entrySet().stream().filter(a -> a.getValue().equals(setting))
                    .map(Map.Entry::getKey).findFirst().orElse(setting);
            throw new IllegalArgumentException("AutocertListener attribute " + attribute + " in server.xml: " + e.getMessage(), e);
        }
    }

    /**
     * Before any connector initialises: adds and connects the challenge valves, gives the HTTPS
     * connectors the engine's key manager, and loads the stored certificates (or placeholders)
     * it serves, without touching the network.
     */
    private synchronized void load(Server server) {
        if (loaded) {
            return; // initialised again after a failed start
        }
        if (manager == null) {
            manager = CertificateManager.builder(settings(server.getCatalinaBase().toPath())).build();
        }
        AutocertSettings settings = manager.settings();
        List<Connector> https = new ArrayList<>();
        boolean httpConnector = false;
        for (Service service : server.findServices()) {
            connectValve(service);
            addSettingValves(service.getContainer(), manager);
            for (Connector connector : service.findConnectors()) {
                if (SslHostConfigInstaller.isHttps(connector)) {
                    https.add(connector);
                } else if (connector.getPort() == settings.httpPort()) {
                    httpConnector = true;
                }
            }
        }
        List<String> names = settings.certificates().stream().map(c -> String.join(",", c.domains())).toList();
        if (https.isEmpty()) {
            LOG.warn("No HTTPS connector: certificates for {} will be obtained and stored, but Tomcat serves none of them. "
                    + "Add <Connector port=\"443\" protocol=\"HTTP/1.1\" SSLEnabled=\"true\"/> without a certificate "
                    + "to the <Service> in server.xml; Autocert supplies the certificate", names);
        }
        if (settings.answersHttp01() && !httpConnector) {
            LOG.warn("HTTP-01 challenges need a plain HTTP connector on port {} (httpPort), and Tomcat has none: "
                    + "add <Connector port=\"{}\" protocol=\"HTTP/1.1\" redirectPort=\"443\"/> to the <Service> in server.xml, "
                    + "or set httpPort to the port your HTTP connector listens on when port 80 is forwarded to it",
                    settings.httpPort(), settings.httpPort());
        }
        Set<String> managedNames = settings.certificates().stream().flatMap(c -> c.domains().stream())
                .map(name -> name.toLowerCase(Locale.ENGLISH)).collect(Collectors.toSet());
        for (Connector connector : https) {
            SslHostConfigInstaller.install(connector, manager.keyManager(), managedNames);
        }
        loaded = true;
        for (Service service : server.findServices()) {
            for (Valve valve : service.getContainer().getPipeline().getValves()) {
                if (valve instanceof AcmeChallengeValve challengeValve) {
                    challengeValve.tokens(manager.http01Tokens());
                }
            }
        }
        LOG.info("Autocert manages {}: HTTPS port(s) {}, HTTP-01 on port {}, CA {}, storage {}", summary(names),
                https.stream().map(Connector::getPort).toList(), settings.httpPort(), settings.ca(), manager.storage());
        manager.load();
    }

    /** The certificates' names for a log line: all of them, or the first few and how many there are. */
    private static String summary(List<String> names) {
        return names.size() <= SUMMARY_LIMIT ? names.toString()
                : names.subList(0, SUMMARY_LIMIT) + " and " + (names.size() - SUMMARY_LIMIT) + " more certificates";
    }

    /** Adds a challenge valve to the service's engine unless server.xml declares one there. */
    private static void connectValve(Service service) {
        Engine engine = service.getContainer();
        if (engine == null) {
            return;
        }
        for (Valve valve : engine.getPipeline().getValves()) {
            if (valve instanceof AcmeChallengeValve) {
                return;
            }
        }
        engine.getPipeline().addValve(new AcmeChallengeValve());
        LOG.debug("Added an AcmeChallengeValve to engine {}", engine.getName());
    }

    /**
     * Adds to {@code engine} (when there is one) what {@code autocert.hsts} and {@code
     * autocert.status-path} ask for, an {@link HstsValve} and a {@link StatusValve}, unless it has
     * them already ({@link AutocertTomcat#install} adds them before the listener runs).
     */
    static void addSettingValves(Engine engine, CertificateManager manager) {
        if (engine == null) {
            return;
        }
        Pipeline pipeline = engine.getPipeline();
        AutocertSettings settings = manager.settings();
        // HSTS first, so that the status page carries it too.
        settings.hsts().filter(value -> none(pipeline, HstsValve.class)).ifPresent(value -> {
            pipeline.addValve(new HstsValve(value));
            LOG.debug("Added an HstsValve ({}) to engine {}", value, engine.getName());
        });
        settings.statusPath().filter(path -> none(pipeline, StatusValve.class)).ifPresent(path -> {
            pipeline.addValve(new StatusValve(path, manager));
            LOG.debug("Added the status page {} to engine {}", path, engine.getName());
        });
    }

    private static boolean none(Pipeline pipeline, Class<? extends Valve> type) {
        return Arrays.stream(pipeline.getValves()).noneMatch(type::isInstance);
    }

    /**
     * Once Tomcat runs, so that the CA's challenges can be answered: starts ordering and renewing.
     * With {@code startupWait}, holds Tomcat's start-up until every certificate is issued and
     * fails it when that time passes.
     */
    private void start() {
        CertificateManager current;
        synchronized (this) {
            if (manager == null || started) {
                return; // started before: Tomcat was stopped and started again
            }
            started = true;
            current = manager;
        }
        if (!current.settings().startupWait().isZero()) {
            LOG.info("Waiting up to {} (startupWait) for certificates from {}", current.settings().startupWait(),
                    current.settings().ca());
        }
        try {
            current.start();
        } catch (AutocertException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private synchronized void stop() {
        if (manager != null) {
            manager.close(); // destroyed: the store's connections and threads go too
        }
    }

    /** {@code value} resolved against {@code base} when it is a relative path; otherwise as it is, for the settings to judge. */
    private static String resolve(Path base, String value) {
        String trimmed = value.trim();
        try {
            boolean url = trimmed.matches("[A-Za-z][A-Za-z0-9+.-]+:.*"); // jdbc:…, vault:…, left to the settings
            return trimmed.isEmpty() || url || Path.of(trimmed).isAbsolute() ? value : base.resolve(trimmed).toString();
        } catch (InvalidPathException e) {
            return value;
        }
    }

    private static Map<String, String> attributes() {
        Map<String, String> result = new LinkedHashMap<>();
        for (String name : AutocertSettings.NAMES) {
            StringBuilder camel = new StringBuilder();
            boolean upper = false;
            for (char c : name.toCharArray()) {
                if (c == '-') {
                    upper = true;
                } else {
                    camel.append(upper ? Character.toUpperCase(c) : c);
                    upper = false;
                }
            }
            result.put(camel.toString(), name.toLowerCase(Locale.ROOT));
        }
        return Map.copyOf(result);
    }
}
