package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the engine knows of one managed certificate now, for health checks, status pages and the
 * operator's command line. Immutable; never holds a secret.
 *
 * @param name         the managed certificate's name
 * @param domains      the identifiers it is configured for
 * @param served       the certificate served now: the real one, or a placeholder
 * @param waiting      the configured names no CA-issued certificate covers yet; they are served a
 *                     placeholder until the new certificate arrives (empty when all are covered)
 * @param pending      why a new certificate is being ordered even though one serves: not issued
 *                     yet, names added, another key type or CA; empty when none is needed
 * @param nextRenewal  when the served certificate is due for renewal, for a real one
 * @param renewalRule  what set {@code nextRenewal}: {@code ari-window}, {@code lifetime-ratio}
 *                     or {@code emergency}
 * @param failures     the number of consecutive failed attempts, 0 when the last one succeeded
 * @param lastError    the message of the last failure, while {@code failures > 0}
 * @param nextAttempt  when the engine next looks at this certificate, when it is running
 * @param placeholderAlertAt while a self-signed placeholder is served for want of a first
 *                     certificate: the moment it counts as {@linkplain #expiring expiring}, {@code
 *                     autocert.placeholder-alert} after this process began serving it; empty for a
 *                     real certificate, when that setting is 0, and for names obtained on demand
 */
public record CertificateStatus(String name, List<String> domains, CertifiedKey served, List<String> waiting,
        Optional<String> pending, Optional<Instant> nextRenewal, Optional<String> renewalRule, int failures,
        Optional<String> lastError, Optional<Instant> nextAttempt, Optional<Instant> placeholderAlertAt) {

    public CertificateStatus {
        requireNonNull(name, "name");
        domains = List.copyOf(domains);
        requireNonNull(served, "served");
        waiting = List.copyOf(waiting);
        requireNonNull(pending, "pending");
        requireNonNull(nextRenewal, "nextRenewal");
        requireNonNull(renewalRule, "renewalRule");
        requireNonNull(lastError, "lastError");
        requireNonNull(nextAttempt, "nextAttempt");
        requireNonNull(placeholderAlertAt, "placeholderAlertAt");
    }

    /**
     * Whether this certificate needs a person now: the certificate served has expired, or renewal
     * keeps failing with less than a tenth of its lifetime left, or its self-signed placeholder is
     * still served at {@link #placeholderAlertAt} or later (the engine's {@code EXPIRING} event).
     * A placeholder younger than that is no alarm: the first certificate is on its way.
     */
    public boolean expiring(Instant now) {
        if (served.placeholder()) {
            return placeholderAlertAt.map(at -> !now.isBefore(at)).orElse(false);
        }
        if (!now.isBefore(served.notAfter())) {
            return true;
        }
        return failures > 0 && RenewalPolicy.isExpiring(served.notBefore(), served.notAfter(), now);
    }
}
