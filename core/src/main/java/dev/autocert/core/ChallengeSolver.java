package dev.autocert.core;

/**
 * Makes challenges of one type visible to the CA, and removes them afterwards. The engine
 * calls {@link #present} before it asks the CA to validate, and {@link #cleanUp} once the
 * challenge is valid or invalid, also when validation failed or the order was abandoned.
 *
 * <p>Implementations must be safe for use by several threads and may be called for several
 * challenges at once. Autocert brings the HTTP-01 solver (answering from {@link Http01Tokens}) and
 * the TLS-ALPN-01 one (answering through {@link CertificateManager#keyManager()});
 * a DNS-01 solver for a DNS provider is given to {@code CertificateManager.Builder.solver}.
 */
public interface ChallengeSolver {

    /** The challenge type this solver answers. */
    ChallengeType type();

    /**
     * Makes {@code challenge} visible; returns once the CA can see it (for DNS, once the record
     * has propagated to the authoritative servers).
     *
     * @throws AutocertException when it cannot be made visible; the order fails and is retried
     */
    void present(ChallengeData challenge) throws AutocertException;

    /** Removes what {@link #present} made visible. Failures are logged by the engine, not thrown. */
    void cleanUp(ChallengeData challenge) throws AutocertException;
}
