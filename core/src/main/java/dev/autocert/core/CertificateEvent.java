package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Something happened to a managed certificate. Immutable.
 *
 * @param type         what happened
 * @param name         the managed certificate's name
 * @param certificate  the certificate now served for {@code name} (the new one after
 *                     {@link Type#OBTAINED}/{@link Type#RENEWED}, the old or placeholder one after
 *                     {@link Type#FAILED})
 * @param certificates every certificate now served, for installers that swap the whole set
 * @param cause        why it failed, for {@link Type#FAILED} and {@link Type#EXPIRING}
 * @param attempt      the number of consecutive failures, 0 when none
 * @param nextAttempt  when the engine tries again, after a failure
 * @param time         when it happened
 */
public record CertificateEvent(Type type, String name, CertifiedKey certificate, List<CertifiedKey> certificates,
        Optional<AutocertException> cause, int attempt, Optional<Instant> nextAttempt, Instant time) {

    /** What happened. */
    public enum Type {
        /** A stored, valid certificate was loaded at start-up, or another node renewed it. */
        LOADED(true),
        /** A self-signed placeholder now serves for a name without a certificate. */
        PLACEHOLDER(true),
        /** The first certificate for a name was issued and stored. */
        OBTAINED(true),
        /** A new version of an existing certificate was issued and stored. */
        RENEWED(true),
        /** An order or renewal failed; the certificate served is unchanged. */
        FAILED(false),
        /**
         * Less than a tenth of the lifetime is left and renewal keeps failing; or the self-signed
         * placeholder is still served {@code autocert.placeholder-alert} after the engine began
         * serving it (its {@code certificate} is then the placeholder). Published after each
         * failed attempt while so, and once when the placeholder's time passes between attempts.
         */
        EXPIRING(false);

        private final boolean changesCertificates;

        Type(boolean changesCertificates) {
            this.changesCertificates = changesCertificates;
        }

        /** Whether events of this type come with a changed certificate set that installers must swap in. */
        public boolean changesCertificates() {
            return changesCertificates;
        }
    }

    public CertificateEvent {
        requireNonNull(type, "type");
        requireNonNull(name, "name");
        requireNonNull(certificate, "certificate");
        certificates = List.copyOf(certificates);
        requireNonNull(cause, "cause");
        requireNonNull(nextAttempt, "nextAttempt");
        requireNonNull(time, "time");
    }
}
