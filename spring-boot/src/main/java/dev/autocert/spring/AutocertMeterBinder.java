package dev.autocert.spring;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertificateMetrics;
import dev.autocert.core.CertificateStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Autocert's meters, bound to the application's Micrometer registry (Spring Boot does this for
 * every {@link MeterBinder} bean):
 * <ul>
 * <li>{@code autocert.certificate.expiry} (gauge, seconds, tag {@code certificate}): seconds until
 *     the certificate served expires; negative once expired; NaN while a placeholder serves;
 * <li>{@code autocert.certificate.expiring} (gauge, 0 or 1, tag {@code certificate}): 1 while it
 *     {@linkplain CertificateStatus#expiring is expiring};
 * <li>{@code autocert.orders} (counter, tag {@code outcome}: {@code obtained}, {@code renewed},
 *     {@code failed}), and {@code autocert.orders.failed} (counter, tag {@code cause}: the CA's
 *     problem type, {@code ca-unreachable} or {@code other});
 * <li>{@code autocert.ari.checks} (counter, tag {@code result}: {@code ok}, {@code failed});
 * <li>{@code autocert.challenges.answered} (counter): HTTP-01 requests answered.
 * </ul>
 * The same facts are in JMX ({@code dev.autocert:type=CertificateManager}). Names obtained on
 * demand have no gauges (they come and go); the counters include them. Never a secret.
 */
final class AutocertMeterBinder implements MeterBinder {

    private static final long SNAPSHOT_NANOS = Duration.ofSeconds(1).toNanos();

    private final CertificateManager manager;
    private final Clock clock;
    private final java.util.Set<MeterRegistry> registries = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean listening = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Snapshot snapshot;

    AutocertMeterBinder(CertificateManager manager, Clock clock) {
        this.manager = manager;
        this.clock = clock;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        CertificateMetrics metrics = manager.metrics();
        for (var certificate : manager.settings().certificates()) {
            String name = certificate.name();
            Gauge.builder("autocert.certificate.expiry", manager, m -> secondsUntilExpiry(m, name))
                    .description("Seconds until the certificate served expires").baseUnit("seconds").tag("certificate", name)
                    .register(registry);
            Gauge.builder("autocert.certificate.expiring", manager, m -> status(m, name).map(s -> s.expiring(clock.instant()) ? 1 : 0)
                    .orElse(0)).description("1 while renewal keeps failing near the end of the lifetime, or after it")
                    .tag("certificate", name).register(registry);
        }
        FunctionCounter.builder("autocert.orders", metrics, CertificateMetrics::obtained).tag("outcome", "obtained")
                .description("Certificates obtained, renewed, and orders failed").register(registry);
        FunctionCounter.builder("autocert.orders", metrics, CertificateMetrics::renewed).tag("outcome", "renewed").register(registry);
        FunctionCounter.builder("autocert.orders", metrics, CertificateMetrics::failed).tag("outcome", "failed").register(registry);
        FunctionCounter.builder("autocert.ari.checks", metrics, CertificateMetrics::ariSuccesses).tag("result", "ok")
                .description("Renewal information (ARI) requests to the CA").register(registry);
        FunctionCounter.builder("autocert.ari.checks", metrics, CertificateMetrics::ariFailures).tag("result", "failed")
                .register(registry);
        FunctionCounter.builder("autocert.challenges.answered", metrics, CertificateMetrics::challengeRequestsAnswered)
                .description("HTTP-01 challenge requests answered").register(registry);
        metrics.failuresByCause().keySet().forEach(cause -> failureCounter(registry, metrics, cause));
        registries.add(registry);
        if (listening.compareAndSet(false, true)) {
            // Causes not seen yet get their counter, in every registry bound, with their first failure.
            manager.addListener(event -> {
                if (event.type() == CertificateEvent.Type.FAILED) {
                    for (MeterRegistry bound : registries) {
                        metrics.failuresByCause().keySet().forEach(cause -> failureCounter(bound, metrics, cause));
                    }
                }
            });
        }
    }

    private static void failureCounter(MeterRegistry registry, CertificateMetrics metrics, String cause) {
        FunctionCounter.builder("autocert.orders.failed", metrics, m -> m.failuresByCause().getOrDefault(cause, 0L))
                .tag("cause", cause).description("Orders failed, by cause").register(registry);
    }

    private double secondsUntilExpiry(CertificateManager m, String name) {
        return status(m, name).filter(s -> !s.served().placeholder())
                .map(s -> (double) Duration.between(clock.instant(), s.served().notAfter()).toSeconds()).orElse(Double.NaN);
    }

    /**
     * The engine's status of {@code name}, from a snapshot at most a second old: a scrape reads
     * every certificate's two gauges, which would otherwise each ask the engine for all of them.
     */
    private Optional<CertificateStatus> status(CertificateManager m, String name) {
        Snapshot current = snapshot;
        long now = System.nanoTime();
        if (current == null || now - current.taken() > SNAPSHOT_NANOS) {
            Map<String, CertificateStatus> byName = new HashMap<>();
            m.status().forEach(s -> byName.put(s.name(), s));
            current = new Snapshot(now, byName);
            snapshot = current;
        }
        return Optional.ofNullable(current.byName().get(name));
    }

    private record Snapshot(long taken, Map<String, CertificateStatus> byName) {
    }
}
