package dev.autocert.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Decides when a certificate is due for renewal. Stateless and thread-safe.
 *
 * <ul>
 * <li>When the CA offers ARI (RFC 9773), a random moment inside its suggested window, so a
 *     fleet spreads its renewals over the window as the CA asks.
 * <li>Otherwise, when a third of the lifetime is left (a half for lifetimes under ten days:
 *     short-lived certificates leave less room for retries); for Let's Encrypt's 90 days that is
 *     day 60, as Certbot and CertMagic do.
 * <li>Emergency: with under a twentieth of the lifetime left, renew now whatever ARI says; a CA
 *     window that late is a CA bug, and an expired certificate is an outage.
 * </ul>
 */
final class RenewalPolicy {

    /** Lifetimes under this renew at half-life instead of at a third left. */
    static final Duration SHORT_LIFETIME = Duration.ofDays(10);

    private RenewalPolicy() {
    }

    /** Why a certificate is due when it is. */
    enum Reason { ARI_WINDOW, LIFETIME_RATIO, EMERGENCY }

    /** The due time and the rule that set it. */
    record Decision(Instant due, Reason reason) {
        boolean isDue(Instant now) {
            return !now.isBefore(due);
        }
    }

    /** The suggested renewal window the CA gave through ARI. */
    record AriWindow(Instant start, Instant end) {
        /** A random moment in the window; the start when the window is empty or inverted. */
        Instant pick(RandomGenerator random) {
            long span = Duration.between(start, end).toMillis();
            return span <= 0 ? start : start.plusMillis((long) (random.nextDouble() * span));
        }
    }

    /** The time by which a certificate without ARI is due: a third (or half) of its lifetime left. */
    static Instant ratioDue(Instant notBefore, Instant notAfter) {
        Duration lifetime = Duration.between(notBefore, notAfter);
        Duration left = lifetime.compareTo(SHORT_LIFETIME) < 0 ? lifetime.dividedBy(2) : lifetime.dividedBy(3);
        return notAfter.minus(left);
    }

    /** The time after which ARI is ignored: a twentieth of the lifetime left. */
    static Instant emergencyDue(Instant notBefore, Instant notAfter) {
        return notAfter.minus(Duration.between(notBefore, notAfter).dividedBy(20));
    }

    /**
     * Decides when the certificate valid from {@code notBefore} to {@code notAfter} is due.
     *
     * @param ariChoice the moment already picked inside the CA's ARI window, if the CA offers ARI
     */
    static Decision decide(Instant notBefore, Instant notAfter, Optional<Instant> ariChoice) {
        Instant emergency = emergencyDue(notBefore, notAfter);
        if (ariChoice.isPresent()) {
            Instant ari = ariChoice.get();
            return ari.isBefore(emergency) ? new Decision(ari, Reason.ARI_WINDOW) : new Decision(emergency, Reason.EMERGENCY);
        }
        return new Decision(ratioDue(notBefore, notAfter), Reason.LIFETIME_RATIO);
    }

    /** Whether less than a tenth of the lifetime is left at {@code now}: failing renewals then warrant an {@code expiring} event. */
    static boolean isExpiring(Instant notBefore, Instant notAfter, Instant now) {
        Duration tenth = Duration.between(notBefore, notAfter).dividedBy(10);
        return !now.isBefore(notAfter.minus(tenth));
    }
}
