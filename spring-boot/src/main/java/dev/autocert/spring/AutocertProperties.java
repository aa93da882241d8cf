package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code autocert.*} properties: the same settings, names and defaults as every other
 * Autocert surface (docs/settings.md). Values are kept as the user wrote them and checked by
 * {@link AutocertSettings.Builder#set(String, String)}, so an invalid one fails start-up with
 * the same message as anywhere else, naming the property. Unknown {@code autocert.*} keys fail
 * start-up too, so a misspelt setting is never silently ignored.
 *
 * <p>A mutable JavaBean, as Spring Boot binds it; not thread-safe, read once at start-up.
 */
@ConfigurationProperties(prefix = "autocert", ignoreUnknownFields = false)
public class AutocertProperties {

    /**
     * Names to obtain certificates for. Commas separate the names of one certificate, whose
     * first name is its name; semicolons separate certificates, so
     * "example.com,www.example.com;api.example.com" is two certificates. Autocert runs only when
     * this is set.
     */
    private String domains;

    /**
     * ACME account contact address; the CA writes to it about expiry and policy changes.
     */
    private String email;

    /**
     * Whether the CA's terms of service are accepted. Let's Encrypt, ZeroSSL and Google
     * require it.
     */
    private boolean agreeTos = false;

    /**
     * CA to obtain certificates from: letsencrypt, letsencrypt-staging, zerossl, google, or the
     * https:// URL of any ACME directory.
     */
    private String ca = "letsencrypt";

    /**
     * PEM file of root certificates trusted for the CA's HTTPS, in addition to the JDK's: for a
     * private or test CA.
     */
    private String caTrust;

    /**
     * Where accounts and certificates are kept: a directory (by default "autocert" in the working
     * directory, user.dir), jdbc:postgresql://HOST/DB (needs autocert-store-jdbc and the
     * PostgreSQL driver) or vault:https://HOST:8200/MOUNT/PATH (needs autocert-store-vault).
     */
    private String storage;

    /**
     * PostgreSQL user for a jdbc:postgresql: storage; else the URL's own or PGUSER.
     */
    private String storageUsername;

    /**
     * PostgreSQL password for a jdbc:postgresql: storage; else the URL's own, PGPASSWORD or ~/.pgpass. Never logged.
     */
    private String storagePassword;

    /**
     * File holding the Vault token for a vault: storage; else VAULT_TOKEN.
     */
    private String vaultTokenFile;

    /**
     * AppRole role ID to log in to Vault with (else VAULT_ROLE_ID), with the secret ID of vault-secret-id-file.
     */
    private String vaultRoleId;

    /**
     * File holding the AppRole secret ID (else VAULT_SECRET_ID).
     */
    private String vaultSecretIdFile;

    /**
     * PEM certificates trusted for Vault's HTTPS, beside the JVM's (else VAULT_CACERT).
     */
    private String vaultCaCert;

    /**
     * Key of each certificate: ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096. Changing it
     * orders new certificates.
     */
    private String keyType = "ec-p256";

    /**
     * Challenge types to use, in order of preference: http-01, dns-01, tls-alpn-01.
     */
    private String challenges = "http-01";

    /**
     * Port of the plain HTTP connector that answers HTTP-01 challenges. CAs always connect to
     * port 80, so use 80 unless a proxy or port forward maps 80 to this port.
     */
    private int httpPort = 80;

    /**
     * HTTPS port, as clients reach it, that plain requests on autocert.http-port are redirected
     * to: 443 when a firewall forwards 443 to server.port. When not set, the port the HTTPS
     * connector listens on (or 443 when the server serves no TLS itself).
     */
    private Integer redirectPort;

    /**
     * ACME profile to ask for, for example Let's Encrypt's "shortlived". When not set, or when the
     * CA does not offer it, the CA's default.
     */
    private String profile;

    /**
     * Whether an order fails when the CA does not offer the profile asked for, instead of
     * getting the CA's default profile.
     */
    private boolean profileRequired = false;

    /**
     * Names, or "*.example.com" patterns, that get a certificate at their first TLS handshake
     * although not in "domains" (on-demand TLS).
     */
    private String onDemand;

    /**
     * URL asked before a certificate is obtained on demand: "GET URL?domain=NAME" must answer 200.
     */
    private String onDemandAsk;

    /**
     * External account binding key id, from the CA account (ZeroSSL and Google require it).
     */
    private String eabKid;

    /**
     * External account binding HMAC key, base64url, from the CA account. A secret: it never
     * appears in logs or errors.
     */
    private String eabHmacKey;

    /**
     * Common name of the top issuer of the chain to prefer when the CA offers several. When not
     * set, or when no chain matches, the CA's default chain.
     */
    private String preferredChain;

    /**
     * How long start-up waits for every certificate, like "90s", "5m" or "PT2M". With "0",
     * start-up never waits and a self-signed placeholder serves until the real certificate
     * arrives.
     */
    private String startupWait = "0";

    /**
     * Shell command run for each HTTP-01 challenge (and DNS-01 when no dns-provider is set), as
     * Certbot's --manual-auth-hook, with CERTBOT_DOMAIN, CERTBOT_VALIDATION, CERTBOT_TOKEN; the
     * server then opens no HTTP port of its own.
     */
    private String manualAuthHook;

    /**
     * Shell command that removes what the auth hook made, as Certbot's --manual-cleanup-hook.
     */
    private String manualCleanupHook;

    /**
     * Shell command run after each new certificate (obtained or renewed, not loaded), as Certbot's
     * --deploy-hook, with RENEWED_LINEAGE (the live/NAME directory) and RENEWED_DOMAINS; for
     * example to reload an nginx that reads live/. Killed after 5 minutes.
     */
    private String deployHook;

    /**
     * Shell command run when a certificate is obtained or renewed, an order fails, or a certificate
     * is expiring: $1 is the event (obtained, renewed, failed, expiring), $2 the name, details in
     * AUTOCERT_* variables; as mod_md's MDMessageCmd. Killed after 1 minute.
     */
    private String notifyCommand;

    /**
     * How long a certificate's self-signed placeholder may be served (its first certificate has not
     * come) before it counts as expiring: health DOWN, an expiring event, the notify command. Like
     * "30m", "1h" or "PT6H"; "0" turns the alert off.
     */
    private String placeholderAlert = "1h";

    /**
     * Strict-Transport-Security on the HTTPS side: "on" (max-age=31536000) or a header value such as
     * "max-age=63072000; includeSubDomains". Off when not set.
     */
    private String hsts;

    /**
     * Path of the JSON status page for plain Jetty and Tomcat; Spring Boot shows the same on the
     * actuator endpoint "autocert", so this stays unset here.
     */
    private String statusPath;

    /**
     * Who may read that status page (addresses and networks, or *); loopback by default. Unused on Spring Boot.
     */
    private String statusAllow;

    /**
     * DNS-01 provider, such as "rfc2136" or "cloudflare"; needs the autocert-dns dependency.
     */
    private String dnsProvider;

    /**
     * The DNS provider's credentials file (mode 0600): Certbot's INI keys or lego's variable names. Only its path is kept.
     */
    private String dnsCredentials;

    /**
     * "strict" refuses a credentials file others may read; "warn" only warns.
     */
    private String dnsCredentialsPermissions = "strict";

    /**
     * How long to wait for the TXT record to be visible, like "120s"; the provider's default when not set.
     */
    private String dnsPropagationTimeout;

    /**
     * How often to look for the TXT record meanwhile; the provider's default when not set.
     */
    private String dnsPollingInterval;

    /**
     * The TXT record's time to live in seconds; the provider's default when not set.
     */
    private Integer dnsTtl;

    /**
     * Resolvers to ask, "host[:port]" separated by commas; the system's when not set.
     */
    private String dnsResolvers;

    /**
     * Where the TXT record must be visible before the CA validates: "authoritative" (the zone's name servers), "resolvers" or "none".
     */
    private String dnsPropagationCheck = "authoritative";

    public String getDnsProvider() {
        return dnsProvider;
    }

    public void setDnsProvider(String dnsProvider) {
        this.dnsProvider = dnsProvider;
    }

    public String getDnsCredentials() {
        return dnsCredentials;
    }

    public void setDnsCredentials(String dnsCredentials) {
        this.dnsCredentials = dnsCredentials;
    }

    public String getDnsCredentialsPermissions() {
        return dnsCredentialsPermissions;
    }

    public void setDnsCredentialsPermissions(String dnsCredentialsPermissions) {
        this.dnsCredentialsPermissions = dnsCredentialsPermissions;
    }

    public String getDnsPropagationTimeout() {
        return dnsPropagationTimeout;
    }

    public void setDnsPropagationTimeout(String dnsPropagationTimeout) {
        this.dnsPropagationTimeout = dnsPropagationTimeout;
    }

    public String getDnsPollingInterval() {
        return dnsPollingInterval;
    }

    public void setDnsPollingInterval(String dnsPollingInterval) {
        this.dnsPollingInterval = dnsPollingInterval;
    }

    public Integer getDnsTtl() {
        return dnsTtl;
    }

    public void setDnsTtl(Integer dnsTtl) {
        this.dnsTtl = dnsTtl;
    }

    public String getDnsResolvers() {
        return dnsResolvers;
    }

    public void setDnsResolvers(String dnsResolvers) {
        this.dnsResolvers = dnsResolvers;
    }

    public String getDnsPropagationCheck() {
        return dnsPropagationCheck;
    }

    public void setDnsPropagationCheck(String dnsPropagationCheck) {
        this.dnsPropagationCheck = dnsPropagationCheck;
    }

    public String getManualAuthHook() {
        return manualAuthHook;
    }

    public void setManualAuthHook(String manualAuthHook) {
        this.manualAuthHook = manualAuthHook;
    }

    public String getManualCleanupHook() {
        return manualCleanupHook;
    }

    public void setManualCleanupHook(String manualCleanupHook) {
        this.manualCleanupHook = manualCleanupHook;
    }

    public String getDeployHook() {
        return deployHook;
    }

    public void setDeployHook(String deployHook) {
        this.deployHook = deployHook;
    }

    public String getDomains() {
        return domains;
    }

    public void setDomains(String domains) {
        this.domains = domains;
    }

    public String getEmail() {
        return email;
    }

    public void setEmail(String email) {
        this.email = email;
    }

    public boolean isAgreeTos() {
        return agreeTos;
    }

    public void setAgreeTos(boolean agreeTos) {
        this.agreeTos = agreeTos;
    }

    public String getCa() {
        return ca;
    }

    public void setCa(String ca) {
        this.ca = ca;
    }

    public String getCaTrust() {
        return caTrust;
    }

    public void setCaTrust(String caTrust) {
        this.caTrust = caTrust;
    }

    public String getStorage() {
        return storage;
    }

    public void setStorage(String storage) {
        this.storage = storage;
    }

    public String getKeyType() {
        return keyType;
    }

    public void setKeyType(String keyType) {
        this.keyType = keyType;
    }

    public String getChallenges() {
        return challenges;
    }

    public void setChallenges(String challenges) {
        this.challenges = challenges;
    }

    public int getHttpPort() {
        return httpPort;
    }

    public void setHttpPort(int httpPort) {
        this.httpPort = httpPort;
    }

    public Integer getRedirectPort() {
        return redirectPort;
    }

    public void setRedirectPort(Integer redirectPort) {
        this.redirectPort = redirectPort;
    }

    public boolean isProfileRequired() {
        return profileRequired;
    }

    public void setProfileRequired(boolean profileRequired) {
        this.profileRequired = profileRequired;
    }

    public String getOnDemand() {
        return onDemand;
    }

    public void setOnDemand(String onDemand) {
        this.onDemand = onDemand;
    }

    public String getOnDemandAsk() {
        return onDemandAsk;
    }

    public void setOnDemandAsk(String onDemandAsk) {
        this.onDemandAsk = onDemandAsk;
    }

    public String getProfile() {
        return profile;
    }

    public void setProfile(String profile) {
        this.profile = profile;
    }

    public String getEabKid() {
        return eabKid;
    }

    public void setEabKid(String eabKid) {
        this.eabKid = eabKid;
    }

    public String getEabHmacKey() {
        return eabHmacKey;
    }

    public void setEabHmacKey(String eabHmacKey) {
        this.eabHmacKey = eabHmacKey;
    }

    public String getPreferredChain() {
        return preferredChain;
    }

    public void setPreferredChain(String preferredChain) {
        this.preferredChain = preferredChain;
    }

    public String getStartupWait() {
        return startupWait;
    }

    public void setStartupWait(String startupWait) {
        this.startupWait = startupWait;
    }

    public String getStorageUsername() {
        return storageUsername;
    }

    public void setStorageUsername(String storageUsername) {
        this.storageUsername = storageUsername;
    }

    public String getStoragePassword() {
        return storagePassword;
    }

    public void setStoragePassword(String storagePassword) {
        this.storagePassword = storagePassword;
    }

    public String getVaultTokenFile() {
        return vaultTokenFile;
    }

    public void setVaultTokenFile(String vaultTokenFile) {
        this.vaultTokenFile = vaultTokenFile;
    }

    public String getVaultRoleId() {
        return vaultRoleId;
    }

    public void setVaultRoleId(String vaultRoleId) {
        this.vaultRoleId = vaultRoleId;
    }

    public String getVaultSecretIdFile() {
        return vaultSecretIdFile;
    }

    public void setVaultSecretIdFile(String vaultSecretIdFile) {
        this.vaultSecretIdFile = vaultSecretIdFile;
    }

    public String getVaultCaCert() {
        return vaultCaCert;
    }

    public void setVaultCaCert(String vaultCaCert) {
        this.vaultCaCert = vaultCaCert;
    }

    public String getNotifyCommand() {
        return notifyCommand;
    }

    public void setNotifyCommand(String notifyCommand) {
        this.notifyCommand = notifyCommand;
    }

    public String getPlaceholderAlert() {
        return placeholderAlert;
    }

    public void setPlaceholderAlert(String placeholderAlert) {
        this.placeholderAlert = placeholderAlert;
    }

    public String getHsts() {
        return hsts;
    }

    public void setHsts(String hsts) {
        this.hsts = hsts;
    }

    public String getStatusAllow() {
        return statusAllow;
    }

    public void setStatusAllow(String statusAllow) {
        this.statusAllow = statusAllow;
    }

    public String getStatusPath() {
        return statusPath;
    }

    public void setStatusPath(String statusPath) {
        this.statusPath = statusPath;
    }

    /**
     * The settings these properties describe, with storage defaulting to {@code autocert} in
     * {@code workingDirectory}.
     *
     * @throws InvalidSettingException naming the first property at fault
     */
    AutocertSettings toSettings(Path workingDirectory) {
        AutocertSettings.Builder builder = AutocertSettings.builder();
        values().forEach(builder::set);
        if (storage == null || storage.isBlank()) { // a relative directory is the settings' own: user.dir
            builder.storage(workingDirectory.resolve("autocert"));
        }
        return builder.build();
    }

    /** Every property that has a value, by setting name (without the prefix), in text form. */
    Map<String, String> values() {
        Map<String, String> values = new LinkedHashMap<>();
        put(values, "domains", domains);
        put(values, "email", email);
        put(values, "agree-tos", String.valueOf(agreeTos));
        put(values, "ca", ca);
        put(values, "ca-trust", caTrust);
        put(values, "storage", storage);
        put(values, "storage-username", storageUsername);
        put(values, "storage-password", storagePassword);
        put(values, "vault-token-file", vaultTokenFile);
        put(values, "vault-role-id", vaultRoleId);
        put(values, "vault-secret-id-file", vaultSecretIdFile);
        put(values, "vault-ca-cert", vaultCaCert);
        put(values, "key-type", keyType);
        put(values, "challenges", challenges);
        put(values, "http-port", String.valueOf(httpPort));
        put(values, "redirect-port", redirectPort == null ? null : String.valueOf(redirectPort));
        put(values, "profile", profile);
        put(values, "profile-required", String.valueOf(profileRequired));
        put(values, "eab-kid", eabKid);
        put(values, "eab-hmac-key", eabHmacKey);
        put(values, "preferred-chain", preferredChain);
        put(values, "startup-wait", startupWait);
        put(values, "on-demand", onDemand);
        put(values, "on-demand-ask", onDemandAsk);
        put(values, "manual-auth-hook", manualAuthHook);
        put(values, "manual-cleanup-hook", manualCleanupHook);
        put(values, "deploy-hook", deployHook);
        put(values, "notify-command", notifyCommand);
        put(values, "placeholder-alert", placeholderAlert);
        put(values, "status-path", statusPath);
        put(values, "status-allow", statusAllow);
        put(values, "hsts", hsts);
        put(values, "dns-provider", dnsProvider);
        put(values, "dns-credentials", dnsCredentials);
        put(values, "dns-credentials-permissions", dnsCredentialsPermissions);
        put(values, "dns-propagation-timeout", dnsPropagationTimeout);
        put(values, "dns-polling-interval", dnsPollingInterval);
        put(values, "dns-ttl", dnsTtl == null ? null : String.valueOf(dnsTtl));
        put(values, "dns-resolvers", dnsResolvers);
        put(values, "dns-propagation-check", dnsPropagationCheck);
        return values;
    }

    private static void put(Map<String, String> values, String name, String value) {
        if (value != null) {
            values.put(name, value);
        }
    }
}
