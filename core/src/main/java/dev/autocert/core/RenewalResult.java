package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * What {@link CertificateManager#renewNow} did for one certificate. Immutable.
 *
 * @param name        the managed certificate's name
 * @param outcome     what happened
 * @param certificate the certificate served for it afterwards: the new one after {@link
 *                    Outcome#OBTAINED} or {@link Outcome#RENEWED}, otherwise the one as before
 *                    (a placeholder when none was ever issued)
 * @param due         for {@link Outcome#NOT_DUE}, when it will be due
 * @param failure     for {@link Outcome#FAILED}, why
 */
public record RenewalResult(String name, Outcome outcome, CertifiedKey certificate, Optional<Instant> due,
        Optional<AutocertException> failure) {

    /** What happened. */
    public enum Outcome {
        /** The first certificate for the name was issued and stored. */
        OBTAINED,
        /** A new version was issued and stored. */
        RENEWED,
        /** Nothing was ordered: the certificate is not due (another process may just have renewed it). */
        NOT_DUE,
        /** Nothing was ordered: another process holds the certificate's lock and is ordering it now. */
        BUSY,
        /** The order failed; the stored certificate is unchanged. */
        FAILED
    }

    public RenewalResult {
        requireNonNull(name, "name");
        requireNonNull(outcome, "outcome");
        requireNonNull(certificate, "certificate");
        requireNonNull(due, "due");
        requireNonNull(failure, "failure");
    }

    /** Whether a new certificate was stored. */
    public boolean issued() {
        return outcome == Outcome.OBTAINED || outcome == Outcome.RENEWED;
    }
}
