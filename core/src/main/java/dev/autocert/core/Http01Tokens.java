package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP-01 challenges being validated right now: token to key authorization (RFC 8555
 * section 8.3), held in memory and read by the server adapters' challenge handlers.
 * Thread-safe; a lookup is one hash-map read.
 *
 * <p>A token is present from just before its challenge is triggered until the challenge is
 * valid or invalid, because the CA may fetch it several times, from several vantage points.
 *
 * <p>In a cluster the CA's requests reach any node, so the engine also writes each token to its
 * {@link Storage} ({@code challenges/http-01/TOKEN}); a node that does not know a token looks
 * there. Memory is asked first; what storage answers is kept for a few seconds, and storage is
 * asked at most {@value #STORAGE_LOOKUPS_PER_SECOND} times a second, so requests for made-up
 * tokens cannot hammer a shared database.
 */
public final class Http01Tokens {

    private static final Logger LOG = LoggerFactory.getLogger(Http01Tokens.class);

    /** Where tokens are kept in storage, one key per token. */
    static final String STORAGE_PREFIX = "challenges/http-01";
    /** How often the engine removes tokens an engine that died left in storage. */
    static final Duration SWEEP_INTERVAL = Duration.ofHours(1);
    /** How old a stored token is when a sweep removes it: far beyond any challenge's life. */
    private static final Duration STALE_AFTER = Duration.ofDays(1);
    private static final long HIT_NANOS = Duration.ofSeconds(30).toNanos();
    private static final long MISS_NANOS = Duration.ofSeconds(2).toNanos();
    private static final int STORAGE_LOOKUPS_PER_SECOND = 50;
    private static final int CACHE_LIMIT = 10_000;

    /** The path prefix a challenge request starts with. */
    public static final String PATH_PREFIX = "/.well-known/acme-challenge/";

    /** RFC 8555 tokens are base64url without padding; CAs send 43 characters, we allow up to 256. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,256}");

    private final Map<String, String> keyAuthorizations = new ConcurrentHashMap<>();
    /** Storage shared with other nodes, or null for memory alone. */
    private final Storage shared;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private long budgetSecond;
    private int budgetUsed;

    private record Cached(String keyAuthorization, long at) {
    }

    /** Tokens in memory alone, for a server that shares no storage. */
    public Http01Tokens() {
        this(null);
    }

    /** Tokens in memory, also written to and looked up in {@code shared} (null for none). */
    Http01Tokens(Storage shared) {
        this.shared = shared;
    }

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
        return keyAuthorization(token);
    }

    /** The key authorization for {@code token}, if it is being validated now, here or by another node. */
    public Optional<String> keyAuthorization(String token) {
        String local = keyAuthorizations.get(requireNonNull(token, "token"));
        return local != null ? Optional.of(local) : Optional.ofNullable(fromStorage(token));
    }

    private String fromStorage(String token) {
        if (shared == null || !TOKEN.matcher(token).matches()) {
            return null;
        }
        long now = System.nanoTime();
        Cached cached = cache.get(token);
        if (cached != null && now - cached.at() < (cached.keyAuthorization() != null ? HIT_NANOS : MISS_NANOS)) {
            return cached.keyAuthorization();
        }
        if (!spendBudget(now)) {
            return null;
        }
        String found = null;
        try {
            Optional<byte[]> value = shared.load(STORAGE_PREFIX + "/" + token);
            if (value.isPresent()) {
                String keyAuthorization = new String(value.get(), StandardCharsets.UTF_8).lines().findFirst().orElse("");
                found = keyAuthorization.startsWith(token + ".") ? keyAuthorization : null;
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("Cannot look up an HTTP-01 token in {}: {}", shared, e.toString());
            return null; // not cached: the next request asks again
        }
        if (cache.size() >= CACHE_LIMIT) {
            cache.clear();
        }
        cache.put(token, new Cached(found, now));
        return found;
    }

    private synchronized boolean spendBudget(long now) {
        long second = now / 1_000_000_000L;
        if (second != budgetSecond) {
            budgetSecond = second;
            budgetUsed = 0;
        }
        return budgetUsed++ < STORAGE_LOOKUPS_PER_SECOND;
    }

    void put(String token, String keyAuthorization) {
        if (!TOKEN.matcher(token).matches()) {
            throw new IllegalArgumentException("The CA sent a token that is not base64url");
        }
        keyAuthorizations.put(token, requireNonNull(keyAuthorization, "keyAuthorization"));
        if (shared != null) {
            try {
                shared.store(STORAGE_PREFIX + "/" + token, (keyAuthorization + "\ncreated=" + Instant.now() + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                LOG.warn("Cannot write HTTP-01 token to {}: only this node answers it ({})", shared, e.toString());
            }
        }
    }

    void remove(String token) {
        keyAuthorizations.remove(token);
        cache.remove(token);
        if (shared != null) {
            try {
                shared.delete(STORAGE_PREFIX + "/" + token);
            } catch (IOException | RuntimeException e) {
                LOG.debug("Cannot remove HTTP-01 token from {}; a later sweep does: {}", shared, e.toString());
            }
        }
    }

    /** Removes tokens that engines which died mid-order left in storage, a day after they were written. */
    void sweep() {
        Instant now = Instant.now(); // the wall clock, as put() stamps it
        if (shared == null) {
            return;
        }
        try {
            for (String key : shared.list(STORAGE_PREFIX)) {
                Optional<byte[]> value = shared.load(key);
                Instant created = value.map(v -> created(new String(v, StandardCharsets.UTF_8))).orElse(null);
                if (created != null && created.plus(STALE_AFTER).isBefore(now)) {
                    shared.delete(key);
                    LOG.debug("Removed stale HTTP-01 token {} from {}", key, shared);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("Cannot sweep HTTP-01 tokens in {}: {}", shared, e.toString());
        }
    }

    private static Instant created(String value) {
        for (String line : value.split("\n")) {
            if (line.startsWith("created=")) {
                try {
                    return Instant.parse(line.substring("created=".length()).trim());
                } catch (DateTimeParseException e) {
                    return Instant.EPOCH;
                }
            }
        }
        return Instant.EPOCH;
    }

    /** How many challenges are open, for tests and diagnostics. */
    int size() {
        return keyAuthorizations.size();
    }
}
