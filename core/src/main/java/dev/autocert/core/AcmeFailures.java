package dev.autocert.core;

import java.time.Instant;
import java.util.Set;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;

/** Turns acme4j's exceptions into ours, deciding which failures retrying cannot mend. */
final class AcmeFailures {

    /** RFC 8555 section 6.7 problem types that mean "a person must change something". */
    private static final Set<String> PERMANENT = Set.of(
            "rejectedIdentifier", "unsupportedIdentifier", "caa", "externalAccountRequired",
            "userActionRequired", "invalidContact", "unsupportedContact", "badSignatureAlgorithm", "badCSR");

    private AcmeFailures() {
    }

    static AutocertException translate(String context, AcmeException e) {
        if (e instanceof AcmeRateLimitedException limited) {
            Instant retryAfter = limited.getRetryAfter().orElse(null);
            return new AutocertException(context + ": rate limited by the CA" + detail(limited.getProblem())
                    + (retryAfter != null ? "; the CA allows a retry after " + retryAfter : ""), e, true, retryAfter);
        }
        if (e instanceof AcmeServerException server) {
            String type = server.getType().toString();
            String shortType = type.substring(type.lastIndexOf(':') + 1);
            boolean permanent = PERMANENT.contains(shortType);
            return new AutocertException(context + ": " + shortType + detail(server.getProblem()), e, !permanent, null);
        }
        return new AutocertException(context + ": " + e.getMessage(), e, true, null);
    }

    static String detail(Problem problem) {
        StringBuilder text = new StringBuilder();
        problem.getDetail().ifPresent(d -> text.append(" (").append(d).append(')'));
        for (Problem sub : problem.getSubProblems()) {
            text.append("; ").append(sub.getIdentifier().map(id -> id.getValue() + ": ").orElse(""))
                    .append(sub.getDetail().orElse(sub.getType().toString()));
        }
        return text.toString();
    }
}
