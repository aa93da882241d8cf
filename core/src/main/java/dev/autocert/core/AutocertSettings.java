package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything Autocert is told: which certificates to keep, from which CA, where to store them.
 * Immutable and validated once, when built.
 *
 * <p>Every surface uses the same names: {@code autocert.domains} in a properties file, a start.d
 * ini or application.properties; {@code domains="…"} in server.xml; {@code --domains} on the
 * command line. {@link #fromProperties(Map)} reads the first form, {@link Builder#set(String,
 * String)} takes a name without the prefix. Errors are {@link InvalidSettingException}s naming
 * the setting, the value and the fix. The settings reference is {@code docs/settings.md}.
 */
public final class AutocertSettings {

    /** The prefix of every setting's property name. */
    public static final String PREFIX = "autocert.";

    static final String DOMAINS = "domains";
    static final String EMAIL = "email";
    static final String AGREE_TOS = "agree-tos";
    static final String CA = "ca";
    static final String CA_TRUST = "ca-trust";
    static final String STORAGE = "storage";
    static final String STORAGE_USERNAME = "storage-username";
    static final String STORAGE_PASSWORD = "storage-password";
    static final String VAULT_TOKEN_FILE = "vault-token-file";
    static final String VAULT_ROLE_ID = "vault-role-id";
    static final String VAULT_SECRET_ID_FILE = "vault-secret-id-file";
    static final String VAULT_CA_CERT = "vault-ca-cert";
    static final String KEY_TYPE = "key-type";
    static final String CHALLENGES = "challenges";
    static final String HTTP_PORT = "http-port";
    static final String REDIRECT_PORT = "redirect-port";
    static final String PROFILE = "profile";
    static final String PROFILE_REQUIRED = "profile-required";
    static final String EAB_KID = "eab-kid";
    static final String EAB_HMAC_KEY = "eab-hmac-key";
    static final String PREFERRED_CHAIN = "preferred-chain";
    static final String STARTUP_WAIT = "startup-wait";
    static final String ON_DEMAND = "on-demand";
    static final String ON_DEMAND_ASK = "on-demand-ask";
    static final String DNS_PROVIDER = "dns-provider";
    static final String DNS_CREDENTIALS = "dns-credentials";
    static final String DNS_CREDENTIALS_PERMISSIONS = "dns-credentials-permissions";
    static final String DNS_PROPAGATION_TIMEOUT = "dns-propagation-timeout";
    static final String DNS_POLLING_INTERVAL = "dns-polling-interval";
    static final String DNS_TTL = "dns-ttl";
    static final String DNS_RESOLVERS = "dns-resolvers";
    static final String DNS_PROPAGATION_CHECK = "dns-propagation-check";
    static final String MANUAL_AUTH_HOOK = "manual-auth-hook";
    static final String MANUAL_CLEANUP_HOOK = "manual-cleanup-hook";
    static final String DEPLOY_HOOK = "deploy-hook";
    static final String NOTIFY_COMMAND = "notify-command";
    static final String PLACEHOLDER_ALERT = "placeholder-alert";
    static final String STATUS_PATH = "status-path";
    static final String STATUS_ALLOW = "status-allow";
    static final String HSTS = "hsts";

    /** Every setting name, without the prefix, in the order the docs list them. */
    public static final List<String> NAMES = List.of(DOMAINS, EMAIL, AGREE_TOS, CA, CA_TRUST, STORAGE, STORAGE_USERNAME,
            STORAGE_PASSWORD, VAULT_TOKEN_FILE, VAULT_ROLE_ID, VAULT_SECRET_ID_FILE, VAULT_CA_CERT, KEY_TYPE,
            CHALLENGES, HTTP_PORT, REDIRECT_PORT, PROFILE, PROFILE_REQUIRED, EAB_KID, EAB_HMAC_KEY, PREFERRED_CHAIN, STARTUP_WAIT, ON_DEMAND, ON_DEMAND_ASK,
            DNS_PROVIDER, DNS_CREDENTIALS, DNS_CREDENTIALS_PERMISSIONS, DNS_PROPAGATION_TIMEOUT, DNS_POLLING_INTERVAL, DNS_TTL,
            DNS_RESOLVERS, DNS_PROPAGATION_CHECK, MANUAL_AUTH_HOOK, MANUAL_CLEANUP_HOOK, DEPLOY_HOOK,
            NOTIFY_COMMAND, PLACEHOLDER_ALERT, STATUS_PATH, STATUS_ALLOW, HSTS);

    /** {@code autocert.placeholder-alert} unless set: a first certificate normally takes seconds to a few minutes. */
    static final Duration DEFAULT_PLACEHOLDER_ALERT = Duration.ofHours(1);

    private static final Pattern EMAIL_PATTERN = Pattern.compile("[^@\\s,;:<>]+@[^@\\s,;:<>]+\\.[^@\\s,;:<>]+");
    private static final Pattern PROFILE_PATTERN = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final List<ManagedCertificate> certificates;
    private final String email;
    private final boolean agreeTos;
    private final List<URI> cas;
    private final String caTrust;
    private final Path caTrustPath;
    private final StorageSettings storage;
    private final KeyType keyType;
    private final List<ChallengeType> challenges;
    private final int httpPort;
    /** {@code autocert.redirect-port}; 0 when not set. */
    private final int redirectPort;
    private final String profile;
    private final boolean profileRequired;
    private final String eabKid;
    private final String eabHmacKey;
    private final String preferredChain;
    private final Duration startupWait;
    private final List<String> onDemand;
    private final URI onDemandAsk;
    private final DnsSettings dns;
    private final String manualAuthHook;
    private final String manualCleanupHook;
    private final String deployHook;
    private final String notifyCommand;
    private final Duration placeholderAlert;
    private final String statusPath;
    private final List<String> statusAllow;
    private final String hsts;

    private AutocertSettings(Builder b, List<ManagedCertificate> certificates, List<URI> cas, Path caTrustPath) {
        this.certificates = List.copyOf(certificates);
        this.email = b.email;
        this.agreeTos = b.agreeTos;
        this.cas = List.copyOf(cas);
        this.caTrust = b.caTrust;
        this.caTrustPath = caTrustPath;
        this.storage = new StorageSettings(b.storage, b.storageUsername, b.storagePassword, b.vaultTokenFile, b.vaultRoleId,
                b.vaultSecretIdFile, b.vaultCaCert);
        this.keyType = b.keyType;
        this.challenges = List.copyOf(b.challenges);
        this.httpPort = b.httpPort;
        this.redirectPort = b.redirectPort;
        this.profile = b.profile;
        this.profileRequired = b.profileRequired;
        this.eabKid = b.eabKid;
        this.eabHmacKey = b.eabHmacKey;
        this.preferredChain = b.preferredChain;
        this.startupWait = b.startupWait;
        this.onDemand = List.copyOf(b.onDemand);
        this.onDemandAsk = b.onDemandAskUri;
        this.dns = b.dnsSettings;
        this.manualAuthHook = b.manualAuthHook;
        this.manualCleanupHook = b.manualCleanupHook;
        this.deployHook = b.deployHook;
        this.notifyCommand = b.notifyCommand;
        this.placeholderAlert = b.placeholderAlert;
        this.statusPath = b.statusPath;
        this.statusAllow = List.copyOf(b.statusAllow);
        this.hsts = b.hsts;
    }

    /** A builder with every default. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the {@code autocert.*} entries of {@code properties}; other entries are ignored, so
     * {@code System.getProperties()} or a whole application.properties can be passed.
     *
     * @throws InvalidSettingException on an unknown {@code autocert.} key (naming the closest
     *         known one) or an invalid value
     */
    public static AutocertSettings fromProperties(Map<?, ?> properties) {
        return builder().properties(properties).build();
    }

    /** A builder holding these settings, to change some of them. */
    public Builder toBuilder() {
        Builder b = new Builder();
        certificates.forEach(c -> b.certificate(c.domains().toArray(String[]::new)));
        b.email = email;
        b.agreeTos = agreeTos;
        b.caValue = String.join(",", cas.stream().map(URI::toString).toList());
        b.caTrust = caTrust;
        b.storage = storage.location().orElse(null);
        b.storageUsername = storage.username().orElse(null);
        b.storagePassword = storage.password().orElse(null);
        b.vaultTokenFile = storage.vaultTokenFile().orElse(null);
        b.vaultRoleId = storage.vaultRoleId().orElse(null);
        b.vaultSecretIdFile = storage.vaultSecretIdFile().orElse(null);
        b.vaultCaCert = storage.vaultCaCert().orElse(null);
        b.keyType = keyType;
        b.challenges = new ArrayList<>(challenges);
        b.httpPort = httpPort;
        b.redirectPort = redirectPort;
        b.profile = profile;
        b.profileRequired = profileRequired;
        b.eabKid = eabKid;
        b.eabHmacKey = eabHmacKey;
        b.preferredChain = preferredChain;
        b.startupWait = startupWait;
        b.onDemand = new ArrayList<>(onDemand);
        b.onDemandAsk = onDemandAsk == null ? null : onDemandAsk.toString();
        b.dnsProvider = dns.provider().orElse(null);
        b.dnsCredentials = dns.credentials().map(Path::toString).orElse(null);
        b.dnsCredentialsStrict = dns.credentialsStrict();
        b.dnsPropagationTimeout = dns.propagationTimeout().orElse(null);
        b.dnsPollingInterval = dns.pollingInterval().orElse(null);
        b.dnsTtl = dns.ttl().isPresent() ? dns.ttl().getAsInt() : null;
        b.dnsResolvers = new ArrayList<>(dns.resolvers());
        b.dnsPropagationCheck = dns.propagationCheck();
        b.manualAuthHook = manualAuthHook;
        b.manualCleanupHook = manualCleanupHook;
        b.deployHook = deployHook;
        b.notifyCommand = notifyCommand;
        b.placeholderAlert = placeholderAlert;
        b.statusPath = statusPath;
        b.statusAllow = new ArrayList<>(statusAllow);
        b.hsts = hsts;
        return b;
    }

    /** The certificates to keep, in the order configured; never empty. */
    public List<ManagedCertificate> certificates() {
        return certificates;
    }

    /** The account's contact address ({@code autocert.email}). */
    public Optional<String> email() {
        return Optional.ofNullable(email);
    }

    /** Whether the CA's terms of service are accepted ({@code autocert.agree-tos}). */
    public boolean agreeTos() {
        return agreeTos;
    }

    /** The first CA's ACME directory URL ({@code autocert.ca}, names resolved): the one every order tries first. */
    public URI ca() {
        return cas.get(0);
    }

    /**
     * Every CA's ACME directory URL, in the order {@code autocert.ca} lists them: an order goes to
     * the first, and to the next only when the one before is down or keeps failing; never empty.
     */
    public List<URI> cas() {
        return cas;
    }

    /** A PEM file of extra trust anchors for the CA's HTTPS ({@code autocert.ca-trust}). */
    public Optional<Path> caTrust() {
        return Optional.ofNullable(caTrustPath);
    }

    /**
     * The storage directory ({@code autocert.storage}) when it names one; empty when it is not set
     * (the adapter's default, under the server's base directory) or names a database or Vault:
     * see {@link #storageSettings()}.
     */
    public Optional<Path> storage() {
        return storage.directory();
    }

    /** {@return {@code autocert.storage} and the credentials of the store it names} */
    public StorageSettings storageSettings() {
        return storage;
    }

    /** The type of each certificate's private key ({@code autocert.key-type}). */
    public KeyType keyType() {
        return keyType;
    }

    /** The challenge types to use, in order of preference ({@code autocert.challenges}). */
    public List<ChallengeType> challenges() {
        return challenges;
    }

    /** The port where the server answers HTTP-01 ({@code autocert.http-port}). */
    public int httpPort() {
        return httpPort;
    }

    /**
     * {@return {@code autocert.redirect-port}: the HTTPS port plain requests on the HTTP port are
     * redirected to, as clients reach it (443 when a firewall forwards 443 to the server's own
     * port); empty when not set: then the port the server's HTTPS connector listens on}
     */
    public OptionalInt redirectPort() {
        return redirectPort == 0 ? OptionalInt.empty() : OptionalInt.of(redirectPort);
    }

    /** The ACME profile to ask for ({@code autocert.profile}). */
    public Optional<String> profile() {
        return Optional.ofNullable(profile);
    }

    /**
     * Whether a CA that does not offer {@link #profile()} fails the order ({@code
     * autocert.profile-required}, like Certbot's {@code --required-profile}); by default such a
     * CA issues its default profile and a WARN says so ({@code --preferred-profile}).
     */
    public boolean profileRequired() {
        return profileRequired;
    }

    /** The external account binding key id ({@code autocert.eab-kid}). */
    public Optional<String> eabKid() {
        return Optional.ofNullable(eabKid);
    }

    /** The external account binding HMAC key, base64url ({@code autocert.eab-hmac-key}). Secret. */
    public Optional<String> eabHmacKey() {
        return Optional.ofNullable(eabHmacKey);
    }

    /** The issuer common name of the chain to prefer ({@code autocert.preferred-chain}). */
    public Optional<String> preferredChain() {
        return Optional.ofNullable(preferredChain);
    }

    /**
     * How long start-up waits for real certificates before it fails ({@code autocert.startup-wait});
     * zero, the default, means start-up never waits and a placeholder serves until they arrive.
     */
    public Duration startupWait() {
        return startupWait;
    }

    /**
     * The names a certificate may be obtained for at their first handshake, though not in
     * {@code autocert.domains} ({@code autocert.on-demand}): exact names, and {@code *.example.com}
     * for any name one label under {@code example.com}. Empty: on-demand TLS is off unless
     * {@link #onDemandAsk()} is set.
     */
    public List<String> onDemand() {
        return onDemand;
    }

    /**
     * {@return {@code autocert.manual-auth-hook}: a shell command run, as Certbot's
     * {@code --manual-auth-hook}, to make each HTTP-01 challenge visible (and each DNS-01 one when
     * no {@code autocert.dns-provider} is set) instead of answering it from memory}
     */
    public Optional<String> manualAuthHook() {
        return Optional.ofNullable(manualAuthHook);
    }

    /**
     * {@return whether the server itself answers HTTP-01 on {@code autocert.http-port}: {@code
     * http-01} is allowed and no manual auth hook answers it instead. Adapters open the plain HTTP
     * port only then}
     */
    public boolean answersHttp01() {
        return challenges.contains(ChallengeType.HTTP_01) && manualAuthHook == null;
    }

    /** {@return {@code autocert.manual-cleanup-hook}: the shell command that removes what the auth hook made, as Certbot's} */
    public Optional<String> manualCleanupHook() {
        return Optional.ofNullable(manualCleanupHook);
    }

    /**
     * {@return {@code autocert.deploy-hook}: a shell command the engine runs (through {@code /bin/sh
     * -c}, as Certbot's {@code --deploy-hook}) after each new certificate it stores, with {@code
     * RENEWED_LINEAGE} (the absolute {@code live/NAME} directory) and {@code RENEWED_DOMAINS} (the
     * names, separated by spaces); for example to reload a web server that reads {@code live/}}
     */
    public Optional<String> deployHook() {
        return Optional.ofNullable(deployHook);
    }

    /**
     * {@return {@code autocert.notify-command}: a shell command run (through {@code /bin/sh -c}) when a
     * certificate is obtained or renewed, an order fails, or a certificate is expiring (see {@link
     * #placeholderAlert()} too), with the
     * event and the name as {@code $1} and {@code $2} and the details in {@code AUTOCERT_*}
     * variables, as Apache mod_md's {@code MDMessageCmd}}
     */
    public Optional<String> notifyCommand() {
        return Optional.ofNullable(notifyCommand);
    }

    /**
     * {@return {@code autocert.placeholder-alert}: how long this process may serve a certificate's
     * self-signed placeholder (its first certificate has not come) before the certificate counts
     * as expiring: an {@code EXPIRING} event, health {@code DOWN}. One hour unless set; zero turns
     * the alert off. Names obtained on demand are never alerted on}
     */
    public Duration placeholderAlert() {
        return placeholderAlert;
    }

    /**
     * {@return {@code autocert.status-path}: the path, such as {@code /autocert-status}, where plain
     * Jetty and Tomcat answer HTTPS requests with the {@link StatusPage}; empty for none (the default)}
     */
    public Optional<String> statusPath() {
        return Optional.ofNullable(statusPath);
    }

    /**
     * {@return {@code autocert.status-allow}: the addresses ({@code 127.0.0.1}, {@code ::1}) and
     * networks ({@code 10.0.0.0/8}) that may read the status page; loopback only by default, or
     * {@code *} for any}
     */
    public List<String> statusAllow() {
        return statusAllow;
    }

    /**
     * {@return {@code autocert.hsts}: the {@code Strict-Transport-Security} header value the HTTPS
     * side of the server adds to its responses, such as {@code max-age=31536000}; empty for none
     * (the default)}
     */
    public Optional<String> hsts() {
        return Optional.ofNullable(hsts);
    }

    /** {@return the DNS-01 settings: provider, credentials, propagation ({@code autocert.dns-*})} */
    public DnsSettings dns() {
        return dns;
    }

    /**
     * The endpoint asked before a certificate is obtained on demand ({@code autocert.on-demand-ask},
     * as Caddy's {@code ask}): {@code GET URL?domain=NAME}, and only a 200 answer allows it.
     */
    public Optional<URI> onDemandAsk() {
        return Optional.ofNullable(onDemandAsk);
    }

    /** Whether certificates may be obtained at the first handshake for names not configured. */
    public boolean onDemandEnabled() {
        return !onDemand.isEmpty() || onDemandAsk != null;
    }

    /**
     * Whether two directory URLs name the same CA, however spelled: host case, an explicit
     * default port and a trailing slash make no difference.
     */
    static boolean sameCa(URI a, URI b) {
        return canonicalCa(a).equals(canonicalCa(b));
    }

    /** The spelling of a directory URL that {@link #sameCa} compares: lower-case host, no default port, no trailing slash. */
    static String canonicalCa(URI ca) {
        String path = ca.getRawPath() == null ? "" : ca.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        int port = ca.getPort() == 443 ? -1 : ca.getPort();
        return "https://" + String.valueOf(ca.getHost()).toLowerCase(Locale.ROOT) + (port > 0 ? ":" + port : "") + path
                + (ca.getRawQuery() != null ? "?" + ca.getRawQuery() : "");
    }

    /** Settings as an operator would write them; the EAB HMAC key is never shown. */
    @Override
    public String toString() {
        return "AutocertSettings{certificates=" + certificates + ", email=" + email + ", agreeTos=" + agreeTos
                + ", ca=" + cas + ", caTrust=" + caTrustPath + ", storage=" + storage + ", keyType=" + keyType
                + ", challenges=" + challenges + ", httpPort=" + httpPort + (redirectPort != 0 ? ", redirectPort=" + redirectPort : "") + ", profile=" + profile + (profileRequired ? " (required)" : "")
                + ", eabKid=" + eabKid + ", eabHmacKey=" + (eabHmacKey == null ? null : "(hidden)")
                + ", preferredChain=" + preferredChain + ", startupWait=" + startupWait + ", onDemand=" + onDemand
                + ", onDemandAsk=" + onDemandAsk + ", dns=" + dns
                + (manualAuthHook != null ? ", manualAuthHook=" + manualAuthHook + ", manualCleanupHook=" + manualCleanupHook : "")
                + (deployHook != null ? ", deployHook=" + deployHook : "")
                + (notifyCommand != null ? ", notifyCommand=" + notifyCommand : "") + ", placeholderAlert=" + placeholderAlert
                + (statusPath != null ? ", statusPath=" + statusPath : "") + (hsts != null ? ", hsts=" + hsts : "") + "}";
    }

    /**
     * Collects settings; {@link #build()} validates them all. Not thread-safe. Values given to
     * {@link #set(String, String)} are checked as they arrive, so an error names the setting
     * the user wrote.
     */
    public static final class Builder {
        private final List<List<String>> domainGroups = new ArrayList<>();
        private String email;
        private boolean agreeTos;
        private String caValue = KnownCa.LETSENCRYPT.id;
        private String caTrust;
        private String storage;
        private String storageUsername;
        private String storagePassword;
        private Path vaultTokenFile;
        private String vaultRoleId;
        private Path vaultSecretIdFile;
        private Path vaultCaCert;
        private KeyType keyType = KeyType.EC_P256;
        private List<ChallengeType> challenges = new ArrayList<>(List.of(ChallengeType.HTTP_01));
        private int httpPort = 80;
        private int redirectPort;
        private String profile;
        private boolean profileRequired;
        private String eabKid;
        private String eabHmacKey;
        private String preferredChain;
        private Duration startupWait = Duration.ZERO;
        private List<String> onDemand = new ArrayList<>();
        private String onDemandAsk;
        private URI onDemandAskUri;
        private String dnsProvider;
        private String dnsCredentials;
        private boolean dnsCredentialsStrict = true;
        private Duration dnsPropagationTimeout;
        private Duration dnsPollingInterval;
        private Integer dnsTtl;
        private List<String> dnsResolvers = new ArrayList<>();
        private DnsSettings.PropagationCheck dnsPropagationCheck = DnsSettings.PropagationCheck.AUTHORITATIVE;
        private DnsSettings dnsSettings;
        private String manualAuthHook;
        private String manualCleanupHook;
        private String deployHook;
        private String notifyCommand;
        private Duration placeholderAlert = DEFAULT_PLACEHOLDER_ALERT;
        private String statusPath;
        private List<String> statusAllow = new ArrayList<>(StatusPage.LOOPBACK);
        private String hsts;
        private boolean certificatesOptional;

        private Builder() {
        }

        /**
         * Sets one setting by its name without the {@code autocert.} prefix, from its text form,
         * as it appears in a properties file. Blank values reset optional settings.
         *
         * @throws InvalidSettingException for an unknown name (naming the closest known one) or a
         *         value that cannot be parsed
         */
        public Builder set(String name, String value) {
            requireNonNull(name, "name");
            requireNonNull(value, "value");
            String key = PREFIX + name;
            String v = value.trim();
            switch (name) {
                case DOMAINS -> domains(v);
                case EMAIL -> email = blankToNull(v);
                case AGREE_TOS -> agreeTos = parseBoolean(key, v);
                case CA -> caValue = v.isEmpty() ? KnownCa.LETSENCRYPT.id : v;
                case CA_TRUST -> caTrust = blankToNull(v);
                case STORAGE -> storage = v.isEmpty() ? null : StorageSettings.parseLocation(key, v);
                case STORAGE_USERNAME -> storageUsername = blankToNull(v);
                case STORAGE_PASSWORD -> storagePassword = value.isEmpty() ? null : value;
                case VAULT_TOKEN_FILE -> vaultTokenFile = v.isEmpty() ? null : parsePath(key, v);
                case VAULT_ROLE_ID -> vaultRoleId = blankToNull(v);
                case VAULT_SECRET_ID_FILE -> vaultSecretIdFile = v.isEmpty() ? null : parsePath(key, v);
                case VAULT_CA_CERT -> vaultCaCert = v.isEmpty() ? null : parsePath(key, v);
                case KEY_TYPE -> keyType = KeyType.parse(key, v);
                case CHALLENGES -> challenges = parseChallenges(key, v);
                case HTTP_PORT -> httpPort = parsePort(key, v);
                case REDIRECT_PORT -> redirectPort = v.isEmpty() ? 0 : parsePort(key, v);
                case PROFILE -> profile = blankToNull(v);
                case PROFILE_REQUIRED -> profileRequired = parseBoolean(key, v);
                case EAB_KID -> eabKid = blankToNull(v);
                case EAB_HMAC_KEY -> eabHmacKey = blankToNull(v);
                case PREFERRED_CHAIN -> preferredChain = blankToNull(v);
                case STARTUP_WAIT -> startupWait = parseDuration(key, v);
                case ON_DEMAND -> onDemand = parseOnDemand(key, v);
                case ON_DEMAND_ASK -> onDemandAsk = blankToNull(v);
                case MANUAL_AUTH_HOOK -> manualAuthHook = blankToNull(v);
                case MANUAL_CLEANUP_HOOK -> manualCleanupHook = blankToNull(v);
                case DEPLOY_HOOK -> deployHook = blankToNull(v);
                case NOTIFY_COMMAND -> notifyCommand = blankToNull(v);
                case PLACEHOLDER_ALERT -> placeholderAlert = parsePlaceholderAlert(key, v);
                case STATUS_PATH -> statusPath = v.isEmpty() ? null : parseStatusPath(key, v);
                case STATUS_ALLOW -> statusAllow = v.isEmpty() ? new ArrayList<>(StatusPage.LOOPBACK) : StatusPage.parseAllow(key, v);
                case HSTS -> hsts = parseHsts(key, v);
                case DNS_PROVIDER -> dnsProvider = v.isEmpty() ? null : v.toLowerCase(Locale.ROOT);
                case DNS_CREDENTIALS -> dnsCredentials = blankToNull(v);
                case DNS_CREDENTIALS_PERMISSIONS -> dnsCredentialsStrict = parseChoice(key, v, "strict", "strict", "warn").equals("strict");
                case DNS_PROPAGATION_TIMEOUT -> dnsPropagationTimeout = v.isEmpty() ? null : parsePositiveDuration(key, v);
                case DNS_POLLING_INTERVAL -> dnsPollingInterval = v.isEmpty() ? null : parsePositiveDuration(key, v);
                case DNS_TTL -> dnsTtl = v.isEmpty() ? null : parseTtl(key, v);
                case DNS_RESOLVERS -> dnsResolvers = parseResolvers(key, v);
                case DNS_PROPAGATION_CHECK -> dnsPropagationCheck = DnsSettings.PropagationCheck.valueOf(
                        parseChoice(key, v, "authoritative", "authoritative", "resolvers", "none").toUpperCase(Locale.ROOT));
                default -> throw new InvalidSettingException(key, "unknown setting" + closest(name)
                        .map(k -> "; did you mean " + PREFIX + k + "?").orElse("; known settings: " + String.join(", ", NAMES)));
            }
            return this;
        }

        /**
         * Sets every {@code autocert.*} entry of {@code properties} with {@link #set(String, String)};
         * other entries are ignored.
         */
        public Builder properties(Map<?, ?> properties) {
            properties.forEach((key, value) -> {
                String name = String.valueOf(key);
                if (name.startsWith(PREFIX) && value != null) {
                    set(name.substring(PREFIX.length()), String.valueOf(value));
                }
            });
            return this;
        }

        /**
         * Replaces all certificates with those described by {@code value}, as in
         * {@code autocert.domains}: names separated by commas make one certificate, and
         * semicolons separate certificates ({@code a.com,www.a.com;b.com} is two).
         */
        public Builder domains(String value) {
            requireNonNull(value, "value");
            domainGroups.clear();
            for (String group : value.split(";")) {
                if (!group.isBlank()) {
                    domainGroups.add(List.of(group.split(",", -1)));
                }
            }
            return this;
        }

        /** Adds one certificate for {@code domains}; the first is its name. */
        public Builder certificate(String... domains) {
            domainGroups.add(List.of(domains));
            return this;
        }

        /** Sets the account's contact address. */
        public Builder email(String email) {
            this.email = email;
            return this;
        }

        /** Sets whether the CA's terms of service are accepted. */
        public Builder agreeTos(boolean agreeTos) {
            this.agreeTos = agreeTos;
            return this;
        }

        /**
         * Sets the CA: a known name ({@code letsencrypt}, {@code letsencrypt-staging}, {@code
         * zerossl}, {@code google}) or a directory URL; or several, separated by commas, to fall
         * back on in that order ({@code letsencrypt,zerossl}).
         */
        public Builder ca(String ca) {
            this.caValue = requireNonNull(ca, "ca");
            return this;
        }

        /** Sets a PEM file of trust anchors for the CA's HTTPS, added to the JDK's. */
        public Builder caTrust(Path pemFile) {
            this.caTrust = pemFile == null ? null : pemFile.toString();
            return this;
        }

        /** Sets the storage directory. */
        public Builder storage(Path directory) {
            this.storage = directory == null ? null : directory.toString();
            return this;
        }

        /** Sets the type of each certificate's private key. */
        public Builder keyType(KeyType keyType) {
            this.keyType = requireNonNull(keyType, "keyType");
            return this;
        }

        /** Sets the challenge types to use, in order of preference. */
        public Builder challenges(ChallengeType... challenges) {
            this.challenges = new ArrayList<>(List.of(challenges));
            return this;
        }

        /** Sets the port where the server answers HTTP-01. */
        public Builder httpPort(int port) {
            this.httpPort = port;
            return this;
        }

        /**
         * Sets the HTTPS port plain requests are redirected to, as clients reach it
         * ({@code autocert.redirect-port}); 0 for the port the HTTPS connector listens on.
         */
        public Builder redirectPort(int port) {
            this.redirectPort = port;
            return this;
        }

        /** Sets the ACME profile to ask for; a CA that does not offer it issues its default one. */
        public Builder profile(String profile) {
            this.profile = profile;
            return this;
        }

        /** Sets whether a CA that does not offer {@link #profile(String)} fails the order instead. */
        public Builder profileRequired(boolean required) {
            this.profileRequired = required;
            return this;
        }

        /** Sets external account binding: the key id and the base64url HMAC key the CA gave. */
        public Builder externalAccountBinding(String kid, String hmacKey) {
            this.eabKid = kid;
            this.eabHmacKey = hmacKey;
            return this;
        }

        /** Sets the issuer common name of the chain to prefer among the CA's alternates. */
        public Builder preferredChain(String issuerCommonName) {
            this.preferredChain = issuerCommonName;
            return this;
        }

        /** Sets the names (or {@code *.example.com} patterns) certificates may be obtained for at their first handshake. */
        public Builder onDemand(String... patterns) {
            this.onDemand = parseOnDemand(PREFIX + ON_DEMAND, String.join(",", patterns));
            return this;
        }

        /** Sets the endpoint that must answer 200 to {@code GET URL?domain=NAME} before a certificate is obtained on demand. */
        public Builder onDemandAsk(String url) {
            this.onDemandAsk = url;
            return this;
        }

        /** Sets the DNS-01 provider by name ({@code autocert.dns-provider}), such as {@code rfc2136} or {@code cloudflare}. */
        public Builder dnsProvider(String name) {
            this.dnsProvider = name == null || name.isBlank() ? null : name.trim().toLowerCase(Locale.ROOT);
            return this;
        }

        /** Sets the DNS provider's credentials file ({@code autocert.dns-credentials}). */
        public Builder dnsCredentials(Path file) {
            this.dnsCredentials = file == null ? null : file.toString();
            return this;
        }

        /**
         * Sets the shell command run after each new certificate is stored, with {@code
         * RENEWED_LINEAGE} and {@code RENEWED_DOMAINS} ({@code autocert.deploy-hook}); null for none.
         */
        public Builder deployHook(String command) {
            this.deployHook = command == null || command.isBlank() ? null : command.trim();
            return this;
        }

        /** A command whose first word is a path must name an executable file. */
        private static void checkProgram(String name, String command) {
            String program = command == null ? null : CertbotHooks.program(command);
            if (program != null) {
                HookRunner.problem(program, Map.of()).ifPresent(problem -> {
                    throw new InvalidSettingException(PREFIX + name, problem);
                });
            }
        }

        /** Sets the shell command run on certificate events ({@code autocert.notify-command}); null for none. */
        public Builder notifyCommand(String command) {
            this.notifyCommand = command == null || command.isBlank() ? null : command.trim();
            return this;
        }

        /**
         * Sets how long a placeholder may serve before its certificate counts as expiring
         * ({@code autocert.placeholder-alert}); zero turns the alert off.
         */
        public Builder placeholderAlert(Duration alert) {
            this.placeholderAlert = requireNonNull(alert, "alert");
            return this;
        }

        /** Sets how long start-up waits for real certificates; zero never waits. */
        public Builder startupWait(Duration wait) {
            this.startupWait = requireNonNull(wait, "wait");
            return this;
        }

        /**
         * Validates everything and returns the settings.
         *
         * @throws InvalidSettingException naming the first setting at fault
         */
        public AutocertSettings build() {
            return build(false);
        }

        /**
         * Builds settings in which {@code autocert.domains} may be empty: for tools that work on
         * storage and accounts alone, such as the command line's {@code certificates}, {@code
         * revoke} and {@code register}. Everything else is checked as by {@link #build()}, except
         * that a known CA's terms ({@code autocert.agree-tos}) and external account binding are not
         * required here: only registering needs them, and registering checks them against the CA's
         * directory.
         */
        public AutocertSettings buildWithoutCertificates() {
            return build(true);
        }

        private AutocertSettings build(boolean certificatesOptional) {
            this.certificatesOptional = certificatesOptional;
            if (challenges.isEmpty()) {
                throw new InvalidSettingException(PREFIX + CHALLENGES, "must name at least one of http-01, dns-01, tls-alpn-01");
            }
            if (new HashSet<>(challenges).size() != challenges.size()) {
                throw new InvalidSettingException(PREFIX + CHALLENGES, "lists a challenge twice: " + challenges);
            }
            List<ManagedCertificate> certificates = checkDomains();
            if (email != null && !EMAIL_PATTERN.matcher(email).matches()) {
                throw new InvalidSettingException(PREFIX + EMAIL, "expected an address like admin@example.com but was '" + email + "'");
            }
            List<URI> directories = resolveCas();
            List<KnownCa> known = directories.stream().map(KnownCa::byDirectory).flatMap(Optional::stream).toList();
            if (!known.isEmpty() && !agreeTos && !certificatesOptional) {
                // Every CA we know by name publishes terms that new accounts must accept.
                throw new InvalidSettingException(PREFIX + AGREE_TOS, known.get(0).id
                        + " requires accepting its terms of service; read them and set " + PREFIX + AGREE_TOS + "=true");
            }
            checkEab(known);
            Path trust = caTrust == null ? null : checkTrust(caTrust);
            if (profileRequired && profile == null) {
                throw new InvalidSettingException(PREFIX + PROFILE_REQUIRED, "is true but " + PREFIX + PROFILE
                        + " names no profile; set " + PREFIX + PROFILE + ", for example " + PREFIX + PROFILE + "=shortlived");
            }
            if (profile != null && !PROFILE_PATTERN.matcher(profile).matches()) {
                throw new InvalidSettingException(PREFIX + PROFILE,
                        "expected a profile name of letters, digits, '.', '_' or '-' but was '" + profile + "'");
            }
            if (httpPort < 1 || httpPort > 65535) {
                throw new InvalidSettingException(PREFIX + HTTP_PORT, "expected a port from 1 to 65535 but was " + httpPort);
            }
            if (redirectPort < 0 || redirectPort > 65535) {
                throw new InvalidSettingException(PREFIX + REDIRECT_PORT, "expected a port from 1 to 65535 (443 for the "
                        + "standard HTTPS port) but was " + redirectPort);
            }
            if (startupWait.isNegative()) {
                throw new InvalidSettingException(PREFIX + STARTUP_WAIT, "must not be negative but was " + startupWait);
            }
            if (placeholderAlert.isNegative()) {
                throw new InvalidSettingException(PREFIX + PLACEHOLDER_ALERT, "must not be negative but was " + placeholderAlert
                        + "; give a duration such as 1h, or 0 to turn the alert off");
            }
            onDemandAskUri = onDemandAsk == null ? null : checkAsk(onDemandAsk);
            dnsSettings = checkDns();
            if (manualAuthHook != null && !challenges.contains(ChallengeType.HTTP_01) && !challenges.contains(ChallengeType.DNS_01)) {
                throw new InvalidSettingException(PREFIX + MANUAL_AUTH_HOOK, "is set but " + PREFIX + CHALLENGES + "="
                        + String.join(",", challenges.stream().map(ChallengeType::id).toList())
                        + " has neither http-01 nor dns-01, which the hooks answer; add one of them");
            }
            if (manualCleanupHook != null && manualAuthHook == null) {
                throw new InvalidSettingException(PREFIX + MANUAL_CLEANUP_HOOK, "is set but " + PREFIX + MANUAL_AUTH_HOOK
                        + " is not; set the auth hook that makes challenges visible, as with Certbot's --manual-auth-hook");
            }
            checkProgram(DEPLOY_HOOK, deployHook);
            checkProgram(NOTIFY_COMMAND, notifyCommand);
            return new AutocertSettings(this, certificates, directories, trust);
        }

        private List<ManagedCertificate> checkDomains() {
            String key = PREFIX + DOMAINS;
            if (domainGroups.isEmpty() && certificatesOptional) {
                return List.of();
            }
            if (domainGroups.isEmpty()) {
                throw new InvalidSettingException(key, "required: the names to obtain a certificate for, "
                        + "for example " + key + "=example.com,www.example.com");
            }
            Set<String> seen = new HashSet<>();
            List<ManagedCertificate> result = new ArrayList<>();
            for (List<String> group : domainGroups) {
                List<String> names = new ArrayList<>();
                for (String raw : group) {
                    String name = DomainNames.normalize(key, raw);
                    if (name.startsWith("*.") && !challenges.contains(ChallengeType.DNS_01)) {
                        throw new InvalidSettingException(key, "'" + raw + "' is a wildcard, which only dns-01 can validate; "
                                + "add dns-01 to " + PREFIX + CHALLENGES);
                    }
                    if (!seen.add(name)) {
                        throw new InvalidSettingException(key, "'" + name + "' is listed twice; each name belongs to one certificate");
                    }
                    names.add(name);
                }
                result.add(ManagedCertificate.of(names));
            }
            return result;
        }

        private List<URI> resolveCas() {
            List<URI> result = new ArrayList<>();
            for (String part : caValue.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                URI directory = resolveCa(part.trim());
                if (result.stream().anyMatch(d -> sameCa(d, directory))) {
                    throw new InvalidSettingException(PREFIX + CA, "lists the CA " + directory + " twice in '" + caValue + "'");
                }
                result.add(directory);
            }
            if (result.isEmpty()) {
                result.add(KnownCa.LETSENCRYPT.directory);
            }
            return result;
        }

        private URI resolveCa(String caValue) {
            Optional<KnownCa> known = KnownCa.byId(caValue);
            if (known.isPresent()) {
                return known.get().directory;
            }
            String key = PREFIX + CA;
            String names = "letsencrypt, letsencrypt-staging, zerossl, google";
            if (!caValue.contains("://")) {
                throw new InvalidSettingException(key, "expected one of " + names
                        + " or an https:// directory URL but was '" + caValue + "'");
            }
            try {
                URI uri = new URI(caValue);
                if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
                    throw new InvalidSettingException(key, "expected an https:// directory URL with a host, "
                            + "as RFC 8555 requires, but was '" + caValue + "'");
                }
                return uri;
            } catch (URISyntaxException e) {
                throw new InvalidSettingException(key, "'" + caValue + "' is not a valid URL: " + e.getReason());
            }
        }

        private void checkEab(List<KnownCa> known) {
            if ((eabKid == null) != (eabHmacKey == null)) {
                String missing = eabKid == null ? EAB_KID : EAB_HMAC_KEY;
                throw new InvalidSettingException(PREFIX + missing, "required with " + PREFIX
                        + (eabKid == null ? EAB_HMAC_KEY : EAB_KID) + ": external account binding needs both the key id and the HMAC key");
            }
            if (eabHmacKey != null) {
                try {
                    byte[] key = Base64.getUrlDecoder().decode(eabHmacKey);
                    if (key.length == 0) {
                        throw new IllegalArgumentException("empty");
                    }
                } catch (IllegalArgumentException e) {
                    // The value is a secret: say what is wrong with it, never what it is.
                    throw new InvalidSettingException(PREFIX + EAB_HMAC_KEY, "expected the base64url HMAC key "
                            + "(letters, digits, '-' and '_', no padding) exactly as the CA gave it, but the "
                            + eabHmacKey.length() + "-character value given is not base64url");
                }
            }
            Optional<KnownCa> needsEab = known.stream().filter(ca -> ca.eabRequired).findFirst();
            if (needsEab.isPresent() && eabKid == null && !certificatesOptional) {
                throw new InvalidSettingException(PREFIX + EAB_KID, needsEab.get().id + " requires external account binding; "
                        + "set " + PREFIX + EAB_KID + " and " + PREFIX + EAB_HMAC_KEY + " from your account's ACME credentials");
            }
        }

        private static Path checkTrust(String value) {
            String key = PREFIX + CA_TRUST;
            Path path;
            try {
                path = Path.of(value);
            } catch (InvalidPathException e) {
                throw new InvalidSettingException(key, "'" + value + "' is not a valid path");
            }
            if (!Files.isReadable(path) || Files.isDirectory(path)) {
                throw new InvalidSettingException(key, "cannot read '" + value
                        + "'; expected a PEM file with the CA's root certificate");
            }
            try (InputStream in = Files.newInputStream(path)) {
                if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                    throw new InvalidSettingException(key, "'" + value + "' holds no certificate; expected PEM "
                            + "(-----BEGIN CERTIFICATE-----)");
                }
            } catch (IOException | CertificateException e) {
                throw new InvalidSettingException(key, "'" + value + "' is not a PEM certificate file: " + e.getMessage());
            }
            return path;
        }

        private static final Pattern STATUS_PATH_PATTERN = Pattern.compile("/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*");
        private static final Pattern HSTS_MAX_AGE = Pattern.compile("max-age=\"?\\d{1,10}\"?", Pattern.CASE_INSENSITIVE);

        private static String parseStatusPath(String key, String value) {
            if (!STATUS_PATH_PATTERN.matcher(value).matches()) {
                throw new InvalidSettingException(key, "'" + value + "' is not a path of the form /autocert-status "
                        + "(segments of letters, digits, . _ ~ -)");
            }
            if (value.startsWith("/.well-known/acme-challenge")) {
                throw new InvalidSettingException(key, "'" + value + "' is under /.well-known/acme-challenge/, which answers "
                        + "the CA's challenges; choose another path, such as /autocert-status");
            }
            return value;
        }

        private static String parseHsts(String key, String value) {
            String v = value.toLowerCase(Locale.ROOT);
            if (v.isEmpty() || v.equals("off") || v.equals("false")) {
                return null;
            }
            if (v.equals("on") || v.equals("true")) {
                return "max-age=31536000";
            }
            // RFC 6797: directives separated by ';' with optional spaces or tabs, in any order, once each.
            int maxAge = 0;
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (String directive : value.split(";", -1)) {
                String d = directive.replaceAll("^[ \t]+|[ \t]+$", "");
                String name = d.contains("=") ? d.substring(0, d.indexOf('=')).toLowerCase(Locale.ROOT) : d.toLowerCase(Locale.ROOT);
                boolean known = HSTS_MAX_AGE.matcher(d).matches() || name.equals("includesubdomains") || name.equals("preload");
                if (!known || !seen.add(name)) {
                    throw new InvalidSettingException(key, "expected on, off or a Strict-Transport-Security value such as "
                            + "max-age=31536000; includeSubDomains, but was '" + value.replaceAll("\\p{Cntrl}", "?") + "'");
                }
                maxAge += name.equals("max-age") ? 1 : 0;
            }
            if (maxAge != 1) {
                throw new InvalidSettingException(key, "'" + value + "' has no max-age; for example max-age=31536000");
            }
            return value.trim();
        }

        private static Path parsePath(String key, String value) {
            try {
                return Path.of(value);
            } catch (InvalidPathException e) {
                throw new InvalidSettingException(key, "'" + value + "' is not a valid file path");
            }
        }


        private static List<String> parseOnDemand(String key, String value) {
            List<String> result = new ArrayList<>();
            for (String part : value.split(",")) {
                String pattern = part.trim();
                if (pattern.isEmpty()) {
                    continue;
                }
                if (pattern.equals("*")) {
                    throw new InvalidSettingException(key, "'*' would let anyone who points a name at this server make it "
                            + "order certificates; list names or *.example.com patterns, or set " + PREFIX + ON_DEMAND_ASK);
                }
                String name = DomainNames.normalize(key, pattern);
                if (DomainNames.isIp(name)) {
                    throw new InvalidSettingException(key, "'" + pattern + "' is an IP address; clients send no name for those: "
                            + "list IP addresses in " + PREFIX + DOMAINS);
                }
                result.add(name);
            }
            return result;
        }

        private static URI checkAsk(String value) {
            String key = PREFIX + ON_DEMAND_ASK;
            try {
                URI uri = new URI(value);
                if (!("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme())) || uri.getHost() == null) {
                    throw new InvalidSettingException(key, "expected an http:// or https:// URL such as "
                            + "http://localhost:5555/check but was '" + value + "'");
                }
                return uri;
            } catch (URISyntaxException e) {
                throw new InvalidSettingException(key, "'" + value + "' is not a valid URL: " + e.getReason());
            }
        }

        private static List<ChallengeType> parseChallenges(String key, String value) {
            List<ChallengeType> result = new ArrayList<>();
            for (String part : value.split(",")) {
                if (!part.isBlank()) {
                    result.add(ChallengeType.parse(key, part));
                }
            }
            return result;
        }

        private static boolean parseBoolean(String key, String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false", "" -> false;
                default -> throw new InvalidSettingException(key, "expected true or false but was '" + value + "'");
            };
        }

        private static int parsePort(String key, String value) {
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new InvalidSettingException(key, "expected a port from 1 to 65535 but was '" + value + "'");
            }
        }

        /** Parses {@code 90s}, {@code 5m}, {@code 1h}, {@code 0} or an ISO-8601 duration ({@code PT30S}). */
        static Duration parseDuration(String key, String value) {
            String v = value.toLowerCase(Locale.ROOT);
            try {
                if (v.isEmpty() || v.equals("0")) {
                    return Duration.ZERO;
                }
                if (v.startsWith("p")) {
                    return Duration.parse(value.toUpperCase(Locale.ROOT));
                }
                long amount = Long.parseLong(v.substring(0, v.length() - 1));
                return switch (v.charAt(v.length() - 1)) {
                    case 's' -> Duration.ofSeconds(amount);
                    case 'm' -> Duration.ofMinutes(amount);
                    case 'h' -> Duration.ofHours(amount);
                    default -> throw new NumberFormatException();
                };
            } catch (NumberFormatException | DateTimeParseException e) {
                throw new InvalidSettingException(key, "expected a duration such as 90s, 5m or 1h but was '" + value + "'");
            }
        }

        /** {@code autocert.placeholder-alert}: a duration as {@link #parseDuration}, not negative; blank for the default. */
        private static Duration parsePlaceholderAlert(String key, String value) {
            if (value.isEmpty()) {
                return DEFAULT_PLACEHOLDER_ALERT;
            }
            Duration alert;
            try {
                alert = parseDuration(key, value);
            } catch (InvalidSettingException e) {
                alert = null;
            }
            if (alert == null || alert.isNegative()) {
                throw new InvalidSettingException(key, "expected a duration such as 30m, 1h or 6h, or 0 to turn the alert off, "
                        + "but was '" + value + "'");
            }
            return alert;
        }

        private DnsSettings checkDns() {
            if (dnsProvider != null && !challenges.contains(ChallengeType.DNS_01)) {
                throw new InvalidSettingException(PREFIX + DNS_PROVIDER, "is '" + dnsProvider + "' but " + PREFIX + CHALLENGES + "="
                        + String.join(",", challenges.stream().map(ChallengeType::id).toList())
                        + " does not include dns-01; add it, for example " + PREFIX + CHALLENGES + "=dns-01");
            }
            Path credentials = null;
            if (dnsCredentials != null) {
                credentials = Path.of(dnsCredentials).toAbsolutePath().normalize();
                if (dnsProvider == null) {
                    throw new InvalidSettingException(PREFIX + DNS_CREDENTIALS, "is '" + dnsCredentials + "' but " + PREFIX
                            + DNS_PROVIDER + " names no provider; set it, for example " + PREFIX + DNS_PROVIDER + "=rfc2136");
                }
            }
            return new DnsSettings(dnsProvider, credentials, dnsCredentialsStrict, dnsPropagationTimeout, dnsPollingInterval, dnsTtl,
                    dnsResolvers, dnsPropagationCheck);
        }

        /** {@code value} in lower case when it is one of {@code choices}; {@code fallback} when blank. */
        private static String parseChoice(String key, String value, String fallback, String... choices) {
            if (value.isEmpty()) {
                return fallback;
            }
            String v = value.toLowerCase(Locale.ROOT);
            if (!List.of(choices).contains(v)) {
                throw new InvalidSettingException(key, "expected one of " + String.join(", ", choices) + " but was '" + value + "'");
            }
            return v;
        }

        /** A duration as {@link #parseDuration}, or plain seconds as lego writes them; above zero. */
        private static Duration parsePositiveDuration(String key, String value) {
            Duration d = value.matches("[0-9]+") ? Duration.ofSeconds(Long.parseLong(value)) : parseDuration(key, value);
            if (d.isZero() || d.isNegative()) {
                throw new InvalidSettingException(key, "must be above zero, like 120s or 2m, but was '" + value + "'");
            }
            return d;
        }

        private static int parseTtl(String key, String value) {
            try {
                int ttl = Integer.parseInt(value);
                if (ttl >= 1 && ttl <= 86400) {
                    return ttl;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new InvalidSettingException(key, "expected seconds from 1 to 86400, like 120, but was '" + value + "'");
        }

        private static List<String> parseResolvers(String key, String value) {
            List<String> resolvers = new ArrayList<>();
            for (String part : value.split(",")) {
                String r = part.trim();
                if (r.isEmpty()) {
                    continue;
                }
                java.util.regex.Matcher m = Pattern.compile("(\\[[0-9a-fA-F:.]+\\]|[^:\\[\\]]+)(?::([0-9]{1,5}))?").matcher(r);
                if (!m.matches() || (m.group(2) != null && (Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535))) {
                    throw new InvalidSettingException(key, "expected host or host:port entries separated by commas, like "
                            + "192.0.2.53,[2001:db8::53]:5353, but found '" + r + "'");
                }
                resolvers.add(r);
            }
            return resolvers;
        }

        private static String blankToNull(String value) {
            return value.isEmpty() ? null : value;
        }

        /** The known name nearest to {@code name}, when it is near enough to be a typo. */
        private static Optional<String> closest(String name) {
            String wanted = name.toLowerCase(Locale.ROOT).replace('_', '-').replace('.', '-');
            Map<String, Integer> distances = new LinkedHashMap<>();
            for (String known : NAMES) {
                distances.put(known, editDistance(wanted, known));
            }
            return distances.entrySet().stream()
                    .min(Comparator.comparingInt(Map.Entry::getValue))
                    .filter(e -> e.getValue() <= Math.max(2, e.getKey().length() / 3))
                    .map(Map.Entry::getKey);
        }

        private static int editDistance(String a, String b) {
            int[] beforePrevious = new int[b.length() + 1];
            int[] previous = new int[b.length() + 1];
            int[] current = new int[b.length() + 1];
            for (int j = 0; j <= b.length(); j++) {
                previous[j] = j;
            }
            for (int i = 1; i <= a.length(); i++) {
                current[0] = i;
                for (int j = 1; j <= b.length(); j++) {
                    int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                    current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                    if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                        current[j] = Math.min(current[j], beforePrevious[j - 2] + 1); // two letters swapped
                    }
                }
                int[] swap = beforePrevious;
                beforePrevious = previous;
                previous = current;
                current = swap;
            }
            return previous[b.length()];
        }
    }
}
