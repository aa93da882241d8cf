package dev.autocert.dns;

import dev.autocert.core.DnsProvider;
import java.time.Duration;

/**
 * Makes one kind of {@link DnsProvider}, the one {@code autocert.dns-provider} names: registered
 * in {@code META-INF/services/dev.autocert.dns.DnsProviderFactory}, so a provider of one's own is
 * a jar on the class path. Implementations are stateless and thread-safe.
 */
public interface DnsProviderFactory {

    /** {@return the name {@code autocert.dns-provider} gives, lower case: {@code rfc2136}, {@code cloudflare}} */
    String name();

    /**
     * {@return lego's prefix of this provider's variables, such as {@code CLOUDFLARE}: its
     * {@code CLOUDFLARE_PROPAGATION_TIMEOUT}, {@code _POLLING_INTERVAL} and {@code _TTL} are honoured}
     */
    String variablePrefix();

    /** {@return how long to wait for a record to be visible, unless set: lego's default for this provider} */
    default Duration propagationTimeout() {
        return Duration.ofSeconds(60);
    }

    /** {@return how often to look for it meanwhile, unless set} */
    default Duration pollingInterval() {
        return Duration.ofSeconds(2);
    }

    /** {@return the TXT record's time to live in seconds, unless set} */
    default int ttl() {
        return 120;
    }

    /**
     * A provider using {@code credentials}, read anew for each order.
     *
     * @throws dev.autocert.core.InvalidSettingException when a credential is missing or unusable,
     *         from {@link DnsCredentials#require} or {@link DnsCredentials#invalid}
     */
    DnsProvider create(DnsCredentials credentials);
}
