package dev.autocert.dns;

import dev.autocert.core.AutocertException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * OAuth 2.0 access tokens (RFC 6749) that a provider trades its credentials for at a token
 * endpoint: Google's for a signed JWT, Microsoft's for a client secret. Tokens are kept across
 * providers, which are made anew for each order, until a minute before they expire (they last
 * about an hour). A token is kept under its endpoint, client and a SHA-256 of the secret it was
 * got with, so a rotated secret gets a new token at once. Thread-safe.
 */
final class AccessTokens {

    /** A token this close to its expiry is not used: an order's calls must not outlive it. */
    private static final Duration MARGIN = Duration.ofSeconds(60);
    private static final Map<String, Token> TOKENS = new ConcurrentHashMap<>();

    private AccessTokens() {
    }

    private record Token(String value, Instant expires) {
    }

    /** The grant a token request carries. */
    @FunctionalInterface
    interface Grant {

        /** {@return the request's form-encoded body, made at {@code now}} */
        String form(Instant now) throws AutocertException;
    }

    /**
     * A token: the one kept for {@code key} and {@code secret}, or a new one from {@code endpoint}.
     *
     * @param key    what the token is for: endpoint, client and scope, never a secret
     * @param secret what the token is got with (a client secret, a private key's encoding); only
     *               its SHA-256 is kept
     * @param http   for the request, with the token endpoint's {@link #errorDetail}
     * @param what   what the request does, for messages: "getting an access token for …"
     */
    static String get(String key, byte[] secret, ProviderHttp http, URI endpoint, Grant grant, String what) throws AutocertException {
        Instant now = Instant.now();
        key = key + " " + AwsSigV4.hex(AwsSigV4.sha256(secret));
        Token kept = TOKENS.get(key);
        if (kept != null && kept.expires().isAfter(now.plus(MARGIN))) {
            return kept.value();
        }
        JSON answer = http.sendJson(ProviderHttp.request(endpoint).header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json").POST(HttpRequest.BodyPublishers.ofString(grant.form(now), StandardCharsets.UTF_8))
                .build(), what);
        if (!answer.get("access_token").isPresent()) {
            throw http.error("the token endpoint " + endpoint + " answered without an access_token");
        }
        // a number, or (Microsoft's older endpoints) a string holding one
        long lifetime;
        try {
            lifetime = answer.get("expires_in").optional().map(v -> Long.parseLong(v.asString())).orElse(3600L);
        } catch (RuntimeException e) {
            throw http.error("the token endpoint " + endpoint + " answered an expires_in that is not a number of seconds");
        }
        Token token = new Token(answer.get("access_token").asString(), now.plusSeconds(lifetime));
        TOKENS.put(key, token);
        return token.value();
    }

    /** Forgets every token kept (tests: each fake token endpoint hands out its own). */
    static void clear() {
        TOKENS.clear();
    }

    /**
     * A token endpoint's error (RFC 6749 section 5.2): {@code error} and the first line of {@code
     * error_description} (Microsoft's further lines carry trace and correlation ids).
     */
    static String errorDetail(String body) {
        JSON json = JSON.parse(body);
        String error = json.get("error").optional().map(JSON.Value::asString).orElse("");
        String description = json.get("error_description").optional().map(JSON.Value::asString).orElse("");
        return description.isEmpty() ? error : error + ": " + description.lines().findFirst().orElse("");
    }
}
