package dev.autocert.core;

import java.time.Instant;
import java.util.Optional;

/**
 * Autocert could not complete an operation with the CA or with storage: the checked root of
 * the engine's failures.
 *
 * <p>{@link #retryable()} is {@code false} when trying again cannot help until someone changes
 * something (terms not agreed, a profile the CA does not offer, a rejected name); the engine
 * then still retries, but only on the slowest step of its {@link RetrySchedule}.
 * {@link #retryAfter()} carries the CA's {@code Retry-After}, which no retry may precede.
 */
public class AutocertException extends Exception {

    private final boolean retryable;
    private final transient Instant retryAfter;

    public AutocertException(String message, Throwable cause) {
        this(message, cause, true, null);
    }

    public AutocertException(String message) {
        this(message, null, true, null);
    }

    AutocertException(String message, Throwable cause, boolean retryable, Instant retryAfter) {
        super(message, cause);
        this.retryable = retryable;
        this.retryAfter = retryAfter;
    }

    /** Creates an exception for a failure that trying again cannot mend. */
    static AutocertException noRetry(String message) {
        return new AutocertException(message, null, false, null);
    }

    /** Whether trying again, unchanged, may succeed. */
    public boolean retryable() {
        return retryable;
    }

    /** The earliest time the CA allows another attempt, when it said so. */
    public Optional<Instant> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
