package dev.autocert.spring;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateStatus;
import dev.autocert.core.CertifiedKey;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code autocert} actuator endpoint ({@code /actuator/autocert} once exposed with {@code
 * management.endpoints.web.exposure.include=autocert}): every managed certificate with its
 * names, the certificate served now and its expiry, when it is renewed next and why, whether it
 * is expiring, and how its last order ended: the facts of the plain servers' status page.
 * {@code /actuator/autocert/NAME} gives one. Never shows keys. Thread-safe.
 */
@Endpoint(id = "autocert")
public final class AutocertEndpoint {

    private final CertificateStatuses statuses;
    /** The engine's own view: next renewal, rule, expiring. */
    private final Supplier<List<CertificateStatus>> engine;
    private final Clock clock;

    AutocertEndpoint(CertificateStatuses statuses, Supplier<List<CertificateStatus>> engine, Clock clock) {
        this.statuses = statuses;
        this.engine = engine;
        this.clock = clock;
    }

    /** Every managed certificate, in the configured order. */
    @ReadOperation
    public Certificates certificates() {
        Map<String, CertificateStatus> known = known();
        return new Certificates(statuses.statuses().stream().map(status -> describe(status, known)).toList());
    }

    /** The managed certificate named {@code name}, or null (404) when there is none. */
    @ReadOperation
    public CertificateDescriptor certificate(@Selector String name) {
        return statuses.status(name).map(status -> describe(status, known())).orElse(null);
    }

    private Map<String, CertificateStatus> known() {
        Map<String, CertificateStatus> byName = new HashMap<>();
        engine.get().forEach(s -> byName.put(s.name(), s));
        return byName;
    }

    private CertificateDescriptor describe(CertificateStatuses.Status status, Map<String, CertificateStatus> known) {
        Optional<CertificateStatus> engineView = Optional.ofNullable(known.get(status.certificate().name()));
        Optional<CertifiedKey> served = status.served();
        Optional<CertificateEvent> last = status.lastEvent();
        Optional<CertificateEvent> order = status.lastOrder();
        return new CertificateDescriptor(status.certificate().name(), status.certificate().domains(),
                served.map(s -> new Served(s.placeholder(), s.names(), s.serial(), s.issuer(), s.notBefore(), s.notAfter(),
                        s.version())).orElse(null),
                last.map(e -> e.type().name()).orElse(null), last.map(CertificateEvent::time).orElse(null),
                engineView.flatMap(CertificateStatus::nextRenewal).orElse(null),
                engineView.flatMap(CertificateStatus::renewalRule).orElse(null),
                engineView.map(CertificateStatus::waiting).orElse(List.of()),
                engineView.map(s -> s.expiring(clock.instant())).orElse(false),
                order.map(e -> new LastOrder(e.type() == CertificateEvent.Type.FAILED ? "FAILED" : "SUCCEEDED",
                        e.type().name(), e.time(), e.cause().map(Throwable::getMessage).orElse(null), e.attempt(),
                        e.nextAttempt().orElse(null))).orElse(null));
    }

    /**
     * The endpoint's answer.
     *
     * @param certificates every managed certificate, in the configured order
     */
    public record Certificates(List<CertificateDescriptor> certificates) {
    }

    /**
     * One managed certificate.
     *
     * @param name          its name, the first of {@code domains}
     * @param domains       the names configured for it
     * @param served        the certificate served now; null before start-up published one
     * @param lastEvent     the type of the last event ({@code LOADED}, {@code OBTAINED}, {@code FAILED}, …)
     * @param lastEventTime when it happened
     * @param nextRenewal   when the engine renews it next; null while it is not scheduled (stopped, on demand)
     * @param renewalRule   why then: {@code ari-window}, {@code lifetime-ratio}, … ; null with {@code nextRenewal}
     * @param waiting       configured names no CA-issued certificate covers yet
     * @param expiring      whether it needs a person now: renewal failing near expiry, expired, or
     *                      the placeholder still served {@code autocert.placeholder-alert} after start
     * @param lastOrder     how the last order ended; null when none was made since start-up
     */
    public record CertificateDescriptor(String name, List<String> domains, Served served, String lastEvent,
            Instant lastEventTime, Instant nextRenewal, String renewalRule, List<String> waiting, boolean expiring,
            LastOrder lastOrder) {
    }

    /**
     * The certificate served now.
     *
     * @param placeholder whether it is the self-signed stand-in served until the first certificate arrives
     * @param names       the DNS names it covers
     * @param serial      its serial number, lower-case hex
     * @param issuer      its issuer's distinguished name
     * @param notBefore   the start of its validity
     * @param notAfter    its expiry
     * @param version     its version in storage (1, 2, …); 0 for a placeholder
     */
    public record Served(boolean placeholder, List<String> names, String serial, String issuer, Instant notBefore,
            Instant notAfter, int version) {
    }

    /**
     * How the last order ended.
     *
     * @param outcome     {@code SUCCEEDED} or {@code FAILED}
     * @param event       {@code OBTAINED}, {@code RENEWED} or {@code FAILED}
     * @param time        when it ended
     * @param error       why it failed; null when it succeeded
     * @param failures    consecutive failures so far, 0 after a success
     * @param nextAttempt when the engine tries again after a failure; null otherwise
     */
    public record LastOrder(String outcome, String event, Instant time, String error, int failures, Instant nextAttempt) {
    }
}
