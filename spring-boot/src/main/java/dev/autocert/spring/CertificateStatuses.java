package dev.autocert.spring;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.ManagedCertificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the health indicator and the {@code autocert} endpoint report: for each managed
 * certificate, the one served now, the last event, and the outcome of the last order
 * (obtained, renewed or failed). Kept from the engine's events. Thread-safe.
 */
final class CertificateStatuses implements CertificateListener {

    /**
     * One certificate's status.
     *
     * @param certificate the managed certificate
     * @param served      the certificate served now; empty before the engine published one
     * @param lastEvent   the last event for it
     * @param lastOrder   the last {@code OBTAINED}, {@code RENEWED} or {@code FAILED} event: how the
     *                    last order ended
     */
    record Status(ManagedCertificate certificate, Optional<CertifiedKey> served, Optional<CertificateEvent> lastEvent,
            Optional<CertificateEvent> lastOrder) {
    }

    private final List<ManagedCertificate> managed;
    private final Map<String, Status> statuses = new LinkedHashMap<>();

    CertificateStatuses(List<ManagedCertificate> managed) {
        this.managed = List.copyOf(managed);
        for (ManagedCertificate certificate : managed) {
            statuses.put(certificate.name(), new Status(certificate, Optional.empty(), Optional.empty(), Optional.empty()));
        }
    }

    @Override
    public synchronized void onEvent(CertificateEvent event) {
        Status old = statuses.get(event.name());
        if (old == null) {
            return; // not one of ours: a listener shared by several engines
        }
        boolean order = switch (event.type()) {
            case OBTAINED, RENEWED, FAILED -> true;
            default -> false;
        };
        statuses.put(event.name(), new Status(old.certificate(), Optional.of(event.certificate()), Optional.of(event),
                order ? Optional.of(event) : old.lastOrder()));
    }

    /** Every managed certificate's status, in the configured order. */
    synchronized List<Status> statuses() {
        List<Status> result = new ArrayList<>();
        for (ManagedCertificate certificate : managed) {
            result.add(statuses.get(certificate.name()));
        }
        return List.copyOf(result);
    }

    /** The status of the certificate named {@code name}. */
    synchronized Optional<Status> status(String name) {
        return Optional.ofNullable(statuses.get(name));
    }
}
