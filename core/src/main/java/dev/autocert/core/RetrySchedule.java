package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * How long the engine waits after a failed order before it tries again: a growing ladder with
 * jitter, never earlier than the CA's {@code Retry-After}. Immutable and thread-safe.
 *
 * <p>The default ladder, with the time since the first failure:
 * <pre>
 * failure  wait        elapsed
 *   1      1 minute    1 min
 *   2      10 minutes  11 min
 *   3      100 minutes ~2 h
 *   4+     6 hours     every 6 h after that
 * </pre>
 * Each wait varies by ±{@code jitter} so that a fleet restarted together does not retry
 * together. Failures that retrying cannot mend ({@link AutocertException#retryable()} false)
 * wait the last, longest step at once. Let's Encrypt's rate limits allow this pace for weeks.
 */
public final class RetrySchedule {

    private static final List<Duration> DEFAULT_STEPS = List.of(
            Duration.ofMinutes(1),      // a passing network fault or a CA hiccup
            Duration.ofMinutes(10),     // a deploy in progress, DNS still propagating
            Duration.ofMinutes(100),    // a CA outage
            Duration.ofHours(6));       // something needs a person; stay well inside rate limits

    private static final RetrySchedule DEFAULT = new RetrySchedule(DEFAULT_STEPS, 0.2);

    private final List<Duration> steps;
    private final double jitter;

    private RetrySchedule(List<Duration> steps, double jitter) {
        this.steps = List.copyOf(steps);
        if (this.steps.isEmpty() || this.steps.stream().anyMatch(d -> d.isNegative() || d.isZero())) {
            throw new IllegalArgumentException("steps must be positive and not empty: " + steps);
        }
        if (jitter < 0 || jitter >= 1) {
            throw new IllegalArgumentException("jitter must be in [0, 1): " + jitter);
        }
        this.jitter = jitter;
    }

    /** The ladder above. */
    public static RetrySchedule defaults() {
        return DEFAULT;
    }

    /**
     * A custom ladder: the n-th failure waits {@code steps[n-1]}, the last step repeating, varied
     * by ±{@code jitter} (0.2 is ±20 %).
     */
    public static RetrySchedule of(List<Duration> steps, double jitter) {
        return new RetrySchedule(requireNonNull(steps, "steps"), jitter);
    }

    /** The steps of the ladder, without jitter. */
    public List<Duration> steps() {
        return steps;
    }

    /**
     * When to try again after failure number {@code attempt} (1 for the first), at {@code now}.
     *
     * @param retryable  whether the failure may mend by itself; if not, the longest step is used
     * @param retryAfter the CA's Retry-After, which the result never precedes
     */
    public Instant next(int attempt, boolean retryable, Optional<Instant> retryAfter, Instant now, RandomGenerator random) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt starts at 1: " + attempt);
        }
        Duration base = retryable ? steps.get(Math.min(attempt, steps.size()) - 1) : steps.get(steps.size() - 1);
        double factor = 1 + jitter * (2 * random.nextDouble() - 1);
        Instant next = now.plusMillis(Math.round(base.toMillis() * factor));
        if (retryAfter.isPresent() && retryAfter.get().isAfter(next)) {
            return retryAfter.get();
        }
        return next;
    }
}
