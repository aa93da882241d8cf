package dev.autocert.spring;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertifiedKey;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * The {@code autocert} health contributor: {@code DOWN} when a certificate served has expired,
 * or when renewal keeps failing with under a tenth of its lifetime left (the engine's {@code
 * EXPIRING} event); {@code UP} otherwise, including while a self-signed placeholder waits for
 * the first certificate. Details, by certificate name: {@code notAfter}, {@code placeholder},
 * {@code serial}, {@code lastEvent} with its time, and after a failure {@code failures},
 * {@code error} and {@code nextAttempt}. Thread-safe.
 */
public final class AutocertHealthIndicator extends AbstractHealthIndicator {

    private final CertificateStatuses statuses;
    private final java.util.function.Supplier<java.util.List<dev.autocert.core.CertificateStatus>> engine;
    private final Clock clock;

    AutocertHealthIndicator(CertificateStatuses statuses, Clock clock) {
        this(statuses, java.util.List::of, clock);
    }

    AutocertHealthIndicator(CertificateStatuses statuses,
            java.util.function.Supplier<java.util.List<dev.autocert.core.CertificateStatus>> engine, Clock clock) {
        super("Autocert health check failed");
        this.statuses = statuses;
        this.engine = engine;
        this.clock = clock;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Instant now = clock.instant();
        boolean down = false;
        Map<String, dev.autocert.core.CertificateStatus> byName = new LinkedHashMap<>();
        engine.get().forEach(s -> byName.put(s.name(), s));
        for (CertificateStatuses.Status status : statuses.statuses()) {
            Map<String, Object> details = new LinkedHashMap<>();
            dev.autocert.core.CertificateStatus known = byName.get(status.certificate().name());
            if (known != null && !known.waiting().isEmpty()) {
                // names not covered by a CA-issued certificate yet, and why a new one is being ordered
                details.put("waiting", known.waiting());
                known.pending().ifPresent(pending -> details.put("pending", pending));
            }
            if (status.served().isPresent()) {
                CertifiedKey served = status.served().get();
                details.put("notAfter", served.notAfter().toString());
                details.put("placeholder", served.placeholder());
                details.put("serial", served.serial());
                if (!served.placeholder() && !now.isBefore(served.notAfter())) {
                    details.put("problem", "expired");
                    down = true;
                }
            }
            if (status.lastEvent().isPresent()) {
                CertificateEvent last = status.lastEvent().get();
                details.put("lastEvent", last.type().name());
                details.put("lastEventTime", last.time().toString());
                if (last.attempt() > 0) {
                    details.put("failures", last.attempt());
                }
                last.cause().ifPresent(cause -> details.put("error", cause.getMessage()));
                last.nextAttempt().ifPresent(next -> details.put("nextAttempt", next.toString()));
                if (last.type() == CertificateEvent.Type.EXPIRING) {
                    details.putIfAbsent("problem", "expiring and renewal keeps failing");
                    down = true;
                }
            }
            builder.withDetail(status.certificate().name(), details);
        }
        if (down) {
            builder.down();
        } else {
            builder.up();
        }
    }
}
