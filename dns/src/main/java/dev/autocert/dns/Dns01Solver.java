package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.ChallengeData;
import dev.autocert.core.ChallengeSolver;
import dev.autocert.core.ChallengeType;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import dev.autocert.core.InvalidSettingException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers DNS-01: publishes each challenge's TXT value through a {@link DnsProvider} (at the end of
 * a CNAME on {@code _acme-challenge}, when there is one), waits until the zone's authoritative
 * servers show it, and removes that value, and only that one, afterwards. The provider is made
 * anew for each challenge from freshly read credentials, so a rotated token is used without a
 * restart. Thread-safe.
 */
final class Dns01Solver implements ChallengeSolver {

    private static final Logger LOG = LoggerFactory.getLogger(Dns01Solver.class);

    private final String providerName;
    private final Supplier<DnsProvider> providers;
    private final Propagation propagation;
    private final Duration timeout;
    private final Duration interval;
    private final int ttl;
    private final Map<ChallengeData, Presented> presented = new ConcurrentHashMap<>();

    /**
     * A record given to a provider.
     *
     * @param presentedAt when the provider had it ({@link System#nanoTime()}): with no propagation
     *                    check, the timeout counts from then, so the values of one order share one wait
     */
    private record Presented(DnsProvider provider, TxtRecord record, long presentedAt) {
    }

    Dns01Solver(String providerName, Supplier<DnsProvider> providers, Propagation propagation, Duration timeout, Duration interval,
            int ttl) {
        this.providerName = requireNonNull(providerName, "providerName");
        this.providers = requireNonNull(providers, "providers");
        this.propagation = requireNonNull(propagation, "propagation");
        this.timeout = requireNonNull(timeout, "timeout");
        this.interval = requireNonNull(interval, "interval");
        this.ttl = ttl;
    }

    @Override
    public ChallengeType type() {
        return ChallengeType.DNS_01;
    }

    @Override
    public void present(ChallengeData challenge) throws AutocertException {
        DnsProvider provider;
        try {
            provider = providers.get();
        } catch (InvalidSettingException e) {
            throw new AutocertException(e.getMessage()); // retried: the file is read anew at each order
        }
        String name = propagation.target(challenge.dnsRecordName());
        TxtRecord record = new TxtRecord(name, challenge.dnsRecordValue(), ttl);
        presented.put(challenge, new Presented(provider, record, System.nanoTime())); // cleaned up even if present fails half-way
        LOG.debug("Publishing the TXT record {} for {} through {}", name, challenge, providerName);
        try {
            if (provider instanceof ChallengeAware aware) {
                aware.present(record, challenge);
            } else {
                provider.present(record);
            }
        } catch (RuntimeException e) {
            throw unexpected("publishing the TXT record " + name, e);
        }
        presented.put(challenge, new Presented(provider, record, System.nanoTime()));
    }

    /** A provider's bug or an API's unexpected answer (a missing field, say), as a failure that names the provider. */
    private AutocertException unexpected(String what, RuntimeException e) {
        return new AutocertException("DNS-01 through " + providerName + ": " + what + " failed unexpectedly ("
                + e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : "") + ")", e);
    }

    @Override
    public void awaitVisible(ChallengeData challenge) throws AutocertException, InterruptedException {
        Presented p = presented.get(challenge);
        if (p == null) {
            throw new IllegalStateException("not presented: " + challenge);
        }
        long start = System.nanoTime();
        propagation.await(p.record.name(), p.record.value(), timeout, interval, p.presentedAt);
        LOG.debug("The TXT record {} is visible after {} ms", p.record.name(), (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public void cleanUp(ChallengeData challenge) throws AutocertException {
        Presented p = presented.remove(challenge);
        if (p != null) {
            LOG.debug("Removing the TXT value of {} from {}", challenge, p.record.name());
            try {
                if (p.provider instanceof ChallengeAware aware) {
                    aware.cleanUp(p.record, challenge);
                } else {
                    p.provider.cleanUp(p.record);
                }
            } catch (RuntimeException e) {
                throw unexpected("removing the TXT value from " + p.record.name(), e);
            }
        }
    }

    @Override
    public String toString() {
        return "dns-01 through " + providerName;
    }
}
