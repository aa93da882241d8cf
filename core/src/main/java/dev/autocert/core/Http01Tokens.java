package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The HTTP-01 challenges being validated right now: token to key authorization (RFC 8555
 * section 8.3), held in memory and read by the server adapters' challenge handlers.
 * Thread-safe; a lookup is one hash-map read.
 *
 * <p>A token is present from just before its challenge is triggered until the challenge is
 * valid or invalid, because the CA may fetch it several times, from several vantage points.
 */
public final class Http01Tokens {

    /** The path prefix a challenge request starts with. */
    public static final String PATH_PREFIX = "/.well-known/acme-challenge/";

    /** RFC 8555 tokens are base64url without padding; CAs send 43 characters, we allow up to 256. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,256}");

    private final Map<String, String> keyAuthorizations = new ConcurrentHashMap<>();

    /** Whether {@code path} is under {@link #PATH_PREFIX}; the cheap test a handler makes first. */
    public static boolean isChallengePath(String path) {
        return path != null && path.startsWith(PATH_PREFIX);
    }

    /**
     * The response body for a request to {@code rawPath}, the request's path as sent (not
     * decoded), or empty when the request must get a plain 404: a path outside the prefix, a
     * token of the wrong form (other characters, {@code ..}, encoded slashes, too long), or a
     * token not being validated now.
     */
    public Optional<String> respond(String rawPath) {
        if (!isChallengePath(rawPath)) {
            return Optional.empty();
        }
        String token = rawPath.substring(PATH_PREFIX.length());
        if (!TOKEN.matcher(token).matches()) {
            return Optional.empty();
        }
        return Optional.ofNullable(keyAuthorizations.get(token));
    }

    /** The key authorization for {@code token}, if it is being validated now. */
    public Optional<String> keyAuthorization(String token) {
        return Optional.ofNullable(keyAuthorizations.get(requireNonNull(token, "token")));
    }

    void put(String token, String keyAuthorization) {
        if (!TOKEN.matcher(token).matches()) {
            throw new IllegalArgumentException("The CA sent a token that is not base64url");
        }
        keyAuthorizations.put(token, requireNonNull(keyAuthorization, "keyAuthorization"));
    }

    void remove(String token) {
        keyAuthorizations.remove(token);
    }

    /** How many challenges are open, for tests and diagnostics. */
    int size() {
        return keyAuthorizations.size();
    }
}
