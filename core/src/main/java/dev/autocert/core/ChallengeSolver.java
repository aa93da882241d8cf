package dev.autocert.core;

/**
 * Makes challenges of one type visible to the CA, and removes them afterwards. For each order
 * the engine calls {@link #present} for every challenge it answers, then {@link #awaitVisible}
 * for each, then asks the CA to validate them all, and calls {@link #cleanUp} for each challenge
 * presented once the order's challenges are valid or invalid, also when validation failed or the
 * order was abandoned.
 *
 * <p>Implementations must be safe for use by several threads and may be called for several
 * challenges at once. Autocert brings the HTTP-01 solver (answering from {@link Http01Tokens}) and
 * the TLS-ALPN-01 one (answering through {@link CertificateManager#keyManager()});
 * the DNS-01 one comes from the {@code autocert-dns} module ({@link Dns01SolverFactory}), and any
 * solver given to {@code CertificateManager.Builder.solver} replaces the built-in one of its type.
 */
public interface ChallengeSolver {

    /** The challenge type this solver answers. */
    ChallengeType type();

    /**
     * Makes {@code challenge} visible, or starts to: a DNS record may still be propagating when
     * this returns.
     *
     * @throws AutocertException when it cannot be made visible; the order fails and is retried
     */
    void present(ChallengeData challenge) throws AutocertException;

    /**
     * Returns once the CA can see {@code challenge} (for DNS, once the record has propagated to
     * the zone's authoritative servers). The default returns at once.
     *
     * @throws AutocertException when it does not become visible in time; the order fails, and
     *         {@link #cleanUp} still runs
     * @throws InterruptedException when the engine stops meanwhile
     */
    default void awaitVisible(ChallengeData challenge) throws AutocertException, InterruptedException {
    }

    /** Removes what {@link #present} made visible. Failures are logged by the engine, not thrown. */
    void cleanUp(ChallengeData challenge) throws AutocertException;
}
