package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;

/**
 * One challenge a {@link ChallengeSolver} must make visible to the CA.
 *
 * @param type             the challenge type
 * @param domain           the name being validated; for a wildcard, without the {@code *.}
 * @param token            the CA's token
 * @param keyAuthorization the token and the account key's thumbprint (RFC 8555 section 8.1); secret
 *                         enough not to log
 * @param orderDomains     every name the order validates, in order (as Certbot's {@code
 *                         CERTBOT_ALL_DOMAINS})
 * @param remaining        how many of the order's challenges come after this one (as Certbot's
 *                         {@code CERTBOT_REMAINING_CHALLENGES})
 */
public record ChallengeData(ChallengeType type, String domain, String token, String keyAuthorization, List<String> orderDomains,
        int remaining) {

    public ChallengeData {
        requireNonNull(type, "type");
        requireNonNull(domain, "domain");
        requireNonNull(token, "token");
        requireNonNull(keyAuthorization, "keyAuthorization");
        orderDomains = List.copyOf(orderDomains);
        if (remaining < 0) {
            throw new IllegalArgumentException("remaining must not be negative: " + remaining);
        }
    }

    /** A challenge alone in its order. */
    public ChallengeData(ChallengeType type, String domain, String token, String keyAuthorization) {
        this(type, domain, token, keyAuthorization, List.of(domain), 0);
    }

    /** For dns-01: the name of the TXT record, {@code _acme-challenge.DOMAIN.} (RFC 8555 section 8.4). */
    public String dnsRecordName() {
        return "_acme-challenge." + domain + ".";
    }

    /** For dns-01: the TXT record's value, the base64url SHA-256 of the key authorization. */
    public String dnsRecordValue() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(keyAuthorization.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Type, domain and token; not the key authorization. */
    @Override
    public String toString() {
        return type + " for " + domain + " (token " + token + ")";
    }
}
