package dev.autocert.core;

/**
 * Hears of every {@link CertificateEvent}: how installers swap certificates into servers and
 * how user hooks learn of renewals and failures.
 *
 * <p>Called on the engine's scheduler thread, one event at a time, in order; keep it quick and
 * hand long work to another thread. A listener that throws is logged at WARN and does not stop
 * the other listeners or the engine.
 */
@FunctionalInterface
public interface CertificateListener {

    /** Handles one event. */
    void onEvent(CertificateEvent event);
}
