package dev.autocert.core;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Instant;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;

/**
 * Turns acme4j's exceptions into ours: naming the cause as an operator would look for it
 * ("connection refused by acme-v02.api.letsencrypt.org:443", "rateLimited, retry after …"), and
 * deciding which failures retrying cannot mend and which mean the CA is unreachable.
 */
final class AcmeFailures {

    /** RFC 8555 section 6.7 problem types that mean "a person must change something". */
    private static final Set<String> PERMANENT = Set.of(
            "rejectedIdentifier", "unsupportedIdentifier", "caa", "externalAccountRequired",
            "userActionRequired", "invalidContact", "unsupportedContact", "badSignatureAlgorithm", "badCSR",
            "invalidProfile");

    private AcmeFailures() {
    }

    /**
     * Translates {@code e}, met while talking to the CA at {@code ca}.
     *
     * @param context what was being done, the start of the message
     */
    static AutocertException translate(String context, URI ca, AcmeException e) {
        if (e instanceof AcmeRateLimitedException limited) {
            Instant retryAfter = limited.getRetryAfter().orElse(null);
            return new AutocertException(context + ": the CA refused it: rateLimited" + detail(limited.getProblem())
                    + (retryAfter != null ? "; retry after " + retryAfter : ""), e, true, retryAfter);
        }
        if (e instanceof AcmeServerException server) {
            String shortType = type(server);
            boolean permanent = PERMANENT.contains(shortType);
            if (shortType.equals("serverInternal")) {
                return new CaUnreachableException(context + ": the CA failed: serverInternal" + detail(server.getProblem()), e);
            }
            return new AutocertException(context + ": the CA refused it: " + shortType + detail(server.getProblem()), e, !permanent, null);
        }
        if (e instanceof AcmeNetworkException) {
            return new CaUnreachableException(context + ": " + network(ca, e), e);
        }
        return new AutocertException(context + ": " + e.getMessage(), e, true, null);
    }

    /** The problem type of {@code e} without its URN prefix: {@code rateLimited}, {@code alreadyReplaced}… */
    static String type(AcmeServerException e) {
        String type = e.getType().toString();
        return type.substring(type.lastIndexOf(':') + 1);
    }

    /** What went wrong on the network, as a person would say it, from the causes of {@code e}. */
    static String network(URI ca, Throwable e) {
        String where = ca.getHost() + ":" + (ca.getPort() > 0 ? ca.getPort() : 443);
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof UnknownHostException) {
                return "DNS lookup of " + ca.getHost() + " failed";
            }
            if (cause instanceof NoRouteToHostException) {
                return "no route to " + where;
            }
            if (cause instanceof HttpConnectTimeoutException) {
                return "connecting to " + where + " timed out";
            }
            if (cause instanceof ConnectException) {
                return "connection refused by " + where;
            }
            if (cause instanceof HttpTimeoutException) {
                return where + " did not answer in time";
            }
            if (cause instanceof SSLException) {
                return "the TLS handshake with " + where + " failed (" + cause.getMessage() + "); if the CA uses a private root, "
                        + "name its PEM file in " + AutocertSettings.PREFIX + AutocertSettings.CA_TRUST;
            }
        }
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return "network error talking to " + where + ": " + root;
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

    /** The CA could not be reached at all: an outage, after which the next CA in {@code autocert.ca} is tried. */
    static final class CaUnreachableException extends AutocertException {
        CaUnreachableException(String message, Throwable cause) {
            super(message, cause, true, null);
        }
    }
}
