package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One certificate as storage holds it, whether or not this process manages it: what {@link
 * CertificateManager#storedCertificates()} lists for the operator's {@code autocert
 * certificates}. Read from storage alone, without the network. Immutable; holds no secret.
 *
 * <p>Its files for other programs are {@code live/LINEAGE/cert.pem}, {@code chain.pem}, {@code
 * fullchain.pem} and {@code privkey.pem} in the store.
 *
 * @param name        the certificate's name, its first domain (as {@code --cert-name} takes it)
 * @param lineage     its name in storage keys: {@code name} with {@code *} and {@code :} made
 *                    {@code _}
 * @param domains     the names it was ordered for
 * @param current     the current version, when there is one and it can be read
 * @param problem     why the current version cannot be used (a file missing or unparseable, a key
 *                    that does not match its chain), or why there is none (its first order
 *                    failed); empty when it is fine
 * @param lastOutcome the last outcome of obtaining or renewing it, as the process that did
 *                    recorded it; empty when none was recorded
 */
public record StoredCertificate(String name, String lineage, List<String> domains, Optional<Version> current,
        Optional<String> problem, Optional<Outcome> lastOutcome) {

    /** The {@link #problem()} of a name whose first order failed: no lineage exists for it. */
    static final String NEVER_ISSUED = "no certificate has been issued yet";

    public StoredCertificate {
        requireNonNull(name, "name");
        requireNonNull(lineage, "lineage");
        domains = List.copyOf(domains);
        requireNonNull(current, "current");
        requireNonNull(problem, "problem");
        requireNonNull(lastOutcome, "lastOutcome");
    }

    /** Whether a lineage exists for it: false for a name whose first order failed, which has only {@link #lastOutcome()}. */
    public boolean hasLineage() {
        return current.isPresent() || !problem.filter(NEVER_ISSUED::equals).isPresent();
    }

    /**
     * The current version of a stored certificate.
     *
     * @param number     the version number (1, 2, …), as in {@code archive/LINEAGE/certN.pem}
     * @param names      the names the certificate covers
     * @param notBefore  the start of its validity
     * @param notAfter   its expiry
     * @param serial     its serial number, lower-case hex
     * @param issuer     its issuer's distinguished name
     * @param keyType    the type of its key, when Autocert makes that type
     * @param profile    the ACME profile the order asked for, if any
     * @param ca         the ACME directory it was issued through
     * @param stored     when it was stored
     * @param renewalDue when it is due for renewal, by the lifetime rule or by the CA's last ARI
     *                   answer in storage (no network is asked)
     * @param revoked    when {@code autocert revoke} revoked it at the CA, if it did; servers
     *                   replace a revoked version at once
     * @param revocationReason the RFC 5280 reason it was revoked with, such as {@code keyCompromise}
     */
    public record Version(int number, List<String> names, Instant notBefore, Instant notAfter, String serial, String issuer,
            Optional<KeyType> keyType, Optional<String> profile, URI ca, Instant stored, Instant renewalDue, Optional<Instant> revoked,
            Optional<String> revocationReason) {

        public Version {
            names = List.copyOf(names);
            requireNonNull(notBefore, "notBefore");
            requireNonNull(notAfter, "notAfter");
            requireNonNull(serial, "serial");
            requireNonNull(issuer, "issuer");
            requireNonNull(keyType, "keyType");
            requireNonNull(profile, "profile");
            requireNonNull(ca, "ca");
            requireNonNull(stored, "stored");
            requireNonNull(renewalDue, "renewalDue");
            requireNonNull(revoked, "revoked");
            requireNonNull(revocationReason, "revocationReason");
        }
    }

    /**
     * The outcome of one attempt to obtain or renew a certificate, as the engine that made it
     * recorded it (in {@code status/LINEAGE.properties}).
     *
     * @param type        {@link CertificateEvent.Type#OBTAINED}, {@link CertificateEvent.Type#RENEWED}
     *                    or {@link CertificateEvent.Type#FAILED}
     * @param at          when
     * @param attempt     for a failure, the number of consecutive failures; 0 otherwise
     * @param error       for a failure, its message (never a secret)
     * @param nextAttempt for a failure, when that engine meant to try again
     */
    public record Outcome(CertificateEvent.Type type, Instant at, int attempt, Optional<String> error, Optional<Instant> nextAttempt) {

        public Outcome {
            requireNonNull(type, "type");
            requireNonNull(at, "at");
            requireNonNull(error, "error");
            requireNonNull(nextAttempt, "nextAttempt");
        }

        /** Whether the attempt failed. */
        public boolean failed() {
            return type == CertificateEvent.Type.FAILED;
        }
    }
}
