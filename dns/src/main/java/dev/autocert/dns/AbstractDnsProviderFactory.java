package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * A {@link DnsProviderFactory} whose name, lego variable prefix and lego defaults are given
 * once, by its constructor; a provider's factory then only reads its credentials in {@link
 * #create}. Immutable.
 */
abstract class AbstractDnsProviderFactory implements DnsProviderFactory {

    private final String name;
    private final String variablePrefix;
    private final Duration propagationTimeout;
    private final Duration pollingInterval;
    private final int ttl;

    /**
     * @param propagationTimeout lego's default for this provider
     * @param pollingInterval    lego's default for this provider
     * @param ttl                lego's default for this provider, in seconds
     */
    AbstractDnsProviderFactory(String name, String variablePrefix, Duration propagationTimeout, Duration pollingInterval, int ttl) {
        this.name = requireNonNull(name, "name");
        this.variablePrefix = requireNonNull(variablePrefix, "variablePrefix");
        this.propagationTimeout = requireNonNull(propagationTimeout, "propagationTimeout");
        this.pollingInterval = requireNonNull(pollingInterval, "pollingInterval");
        this.ttl = ttl;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String variablePrefix() {
        return variablePrefix;
    }

    @Override
    public final Duration propagationTimeout() {
        return propagationTimeout;
    }

    @Override
    public final Duration pollingInterval() {
        return pollingInterval;
    }

    @Override
    public final int ttl() {
        return ttl;
    }
}
