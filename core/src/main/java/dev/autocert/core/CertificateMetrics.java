package dev.autocert.core;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;
import org.shredzone.acme4j.exception.AcmeServerException;

/**
 * What an engine has done since it was built, counted: certificates obtained and renewed, orders
 * failed (by cause), ARI checks, and HTTP-01 challenge requests answered. Read by the JMX bean
 * ({@link CertificateManagerMXBean}) and by metrics registries (Micrometer in Spring Boot); the
 * seconds until each certificate expires come from {@link CertificateManager#status()}.
 * Thread-safe; counters only grow.
 */
public final class CertificateMetrics {

    private final LongAdder obtained = new LongAdder();
    private final LongAdder renewed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder ariSuccesses = new LongAdder();
    private final LongAdder ariFailures = new LongAdder();
    private final ConcurrentMap<String, LongAdder> failuresByCause = new ConcurrentHashMap<>();
    private final Http01Tokens tokens;

    CertificateMetrics(Http01Tokens tokens) {
        this.tokens = tokens;
    }

    /** {@return how many first certificates for a name were obtained} */
    public long obtained() {
        return obtained.sum();
    }

    /** {@return how many certificates were renewed} */
    public long renewed() {
        return renewed.sum();
    }

    /** {@return how many orders or renewals failed} */
    public long failed() {
        return failed.sum();
    }

    /**
     * {@return the failures by cause: the CA's problem type ({@code rateLimited}, {@code
     * unauthorized}, {@code connection}, {@code dns}…), {@code ca-unreachable}, or {@code other}}
     */
    public Map<String, Long> failuresByCause() {
        Map<String, Long> result = new TreeMap<>();
        failuresByCause.forEach((cause, count) -> result.put(cause, count.sum()));
        return result;
    }

    /** {@return how many times the CA's renewal information (ARI) was asked for} */
    public long ariChecks() {
        return ariSuccesses.sum() + ariFailures.sum();
    }

    /** {@return how many of those ARI requests were answered} */
    public long ariSuccesses() {
        return ariSuccesses.sum();
    }

    /** {@return how many of those ARI requests failed} */
    public long ariFailures() {
        return ariFailures.sum();
    }

    /** {@return how many HTTP-01 challenge requests were answered with a key authorization} */
    public long challengeRequestsAnswered() {
        return tokens.answered();
    }

    void count(CertificateEvent.Type type, AutocertException cause) {
        switch (type) {
            case OBTAINED -> obtained.increment();
            case RENEWED -> renewed.increment();
            case FAILED -> {
                failed.increment();
                failuresByCause.computeIfAbsent(cause(cause), c -> new LongAdder()).increment();
            }
            default -> {
            }
        }
    }

    void ariChecked(boolean ok) {
        (ok ? ariSuccesses : ariFailures).increment();
    }

    /** A label of few values for {@code e}: the CA's problem type, {@code ca-unreachable} or {@code other}. */
    static String cause(AutocertException e) {
        if (e == null) {
            return "other";
        }
        if (e instanceof AcmeFailures.CaUnreachableException) {
            return "ca-unreachable";
        }
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof AcmeServerException server) {
                String type = AcmeFailures.type(server);
                return type.matches("[A-Za-z]{1,40}") ? type : "other";
            }
        }
        return "other";
    }

    @Override
    public String toString() {
        return "CertificateMetrics{obtained=" + obtained() + ", renewed=" + renewed() + ", failed=" + failed() + " " + failuresByCause()
                + ", ariChecks=" + ariChecks() + ", challengeRequestsAnswered=" + challengeRequestsAnswered() + "}";
    }
}
