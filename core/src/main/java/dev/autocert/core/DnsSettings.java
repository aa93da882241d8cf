package dev.autocert.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The {@code autocert.dns-*} settings of DNS-01: which provider, where its credentials are, and
 * how propagation is checked. Immutable; part of {@link AutocertSettings#dns()}. Unset durations
 * and the TTL fall back on the provider's own defaults (lego's), then on 60 s, 2 s and 120 s.
 */
public final class DnsSettings {

    /** Where the propagation check looks for the TXT value before the CA is asked to validate. */
    public enum PropagationCheck {
        /** At every authoritative name server of the zone, found through SOA and NS (the default). */
        AUTHORITATIVE,
        /** At the resolvers of {@code autocert.dns-resolvers} (or the system's). */
        RESOLVERS,
        /** Nowhere: wait {@code autocert.dns-propagation-timeout}, then ask the CA. */
        NONE
    }

    private final String provider;
    private final Path credentials;
    private final boolean credentialsStrict;
    private final Duration propagationTimeout;
    private final Duration pollingInterval;
    private final Integer ttl;
    private final List<String> resolvers;
    private final PropagationCheck propagationCheck;

    DnsSettings(String provider, Path credentials, boolean credentialsStrict, Duration propagationTimeout, Duration pollingInterval,
            Integer ttl, List<String> resolvers, PropagationCheck propagationCheck) {
        this.provider = provider;
        this.credentials = credentials;
        this.credentialsStrict = credentialsStrict;
        this.propagationTimeout = propagationTimeout;
        this.pollingInterval = pollingInterval;
        this.ttl = ttl;
        this.resolvers = List.copyOf(resolvers);
        this.propagationCheck = propagationCheck;
    }

    /** {@return {@code autocert.dns-provider}: the provider's name, such as {@code rfc2136} or {@code cloudflare}} */
    public Optional<String> provider() {
        return Optional.ofNullable(provider);
    }

    /** {@return {@code autocert.dns-credentials}: the provider's credentials file (Certbot's INI keys or lego's variable names)} */
    public Optional<Path> credentials() {
        return Optional.ofNullable(credentials);
    }

    /**
     * {@return false when {@code autocert.dns-credentials-permissions=warn}: a credentials file
     * others may read is used with a warning rather than refused}
     */
    public boolean credentialsStrict() {
        return credentialsStrict;
    }

    /** {@return {@code autocert.dns-propagation-timeout}: how long to wait for the TXT value to be visible} */
    public Optional<Duration> propagationTimeout() {
        return Optional.ofNullable(propagationTimeout);
    }

    /** {@return {@code autocert.dns-polling-interval}: how often to look meanwhile} */
    public Optional<Duration> pollingInterval() {
        return Optional.ofNullable(pollingInterval);
    }

    /** {@return {@code autocert.dns-ttl}: the TXT record's time to live, in seconds} */
    public OptionalInt ttl() {
        return ttl == null ? OptionalInt.empty() : OptionalInt.of(ttl);
    }

    /** {@return {@code autocert.dns-resolvers}: {@code host} or {@code host:port} of the resolvers to ask; empty for the system's} */
    public List<String> resolvers() {
        return resolvers;
    }

    /** {@return {@code autocert.dns-propagation-check}} */
    public PropagationCheck propagationCheck() {
        return propagationCheck;
    }

    @Override
    public String toString() {
        return "{provider=" + provider + ", credentials=" + credentials + (credentialsStrict ? "" : " (permissions: warn)")
                + ", propagationTimeout=" + propagationTimeout + ", pollingInterval=" + pollingInterval + ", ttl=" + ttl
                + ", resolvers=" + resolvers + ", propagationCheck=" + propagationCheck + "}";
    }
}
