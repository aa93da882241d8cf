package dev.autocert.spring;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateStatus;
import dev.autocert.core.CertifiedKey;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What the {@code autocert} health contributor reports, whichever Spring Boot's health classes
 * carry it: {@code DOWN} when a certificate served has expired, or when renewal keeps failing
 * with under a tenth of its lifetime left, or the placeholder is still served long after start
 * (the engine's {@code EXPIRING} event); {@code UP} otherwise, including while a self-signed
 * placeholder waits for the first certificate. Details, by certificate name: {@code notAfter},
 * {@code placeholder}, {@code serial}, {@code lastEvent} with its time, and after a failure
 * {@code failures}, {@code error} and {@code nextAttempt}. Thread-safe.
 */
final class CertificateHealth {

    /** One health reading: up or down, with details by certificate name. */
    record Report(boolean up, Map<String, Object> details) {
    }

    private final CertificateStatuses statuses;
    private final Supplier<List<CertificateStatus>> engine;
    private final Clock clock;

    CertificateHealth(CertificateStatuses statuses, Supplier<List<CertificateStatus>> engine, Clock clock) {
        this.statuses = statuses;
        this.engine = engine;
        this.clock = clock;
    }

    Report check() {
        Instant now = clock.instant();
        boolean down = false;
        Map<String, CertificateStatus> byName = new LinkedHashMap<>();
        engine.get().forEach(s -> byName.put(s.name(), s));
        Map<String, Object> report = new LinkedHashMap<>();
        for (CertificateStatuses.Status status : statuses.statuses()) {
            Map<String, Object> details = new LinkedHashMap<>();
            CertificateStatus known = byName.get(status.certificate().name());
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
                    details.putIfAbsent("problem", status.served().map(CertifiedKey::placeholder).orElse(false)
                            ? "placeholder still served" : "expiring and renewal keeps failing");
                    down = true;
                }
            }
            if (known != null && known.expiring(now)) {
                // the engine's own view, which a later event (a placeholder refreshed) does not hide
                details.putIfAbsent("problem", known.served().placeholder() ? "placeholder still served"
                        : "expiring and renewal keeps failing");
                down = true;
            }
            report.put(status.certificate().name(), details);
        }
        return new Report(!down, report);
    }
}
