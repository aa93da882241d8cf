package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * there. Memory is asked first; then the set of tokens in storage, listed at most every 100 ms
 * whatever the requests (so requests for made-up tokens cannot hammer a shared database, nor use
 * up a budget that the CA's requests need); only a token in that set is read, and what is read is
 * kept for 30 seconds. The ordering node waits longer than that listing interval before it asks
 * the CA to validate ({@link #awaitShared()}), so every node's listing includes the token by then.
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
    /** How old the listing of stored tokens may be when a request for an unknown token arrives. */
    private static final long LIST_NANOS = Duration.ofMillis(100).toNanos();
    /** How long a node that stored a token waits before the CA may ask: past every node's listing interval. */
    private static final long SHARE_WAIT_NANOS = Duration.ofMillis(150).toNanos();
    private static final int CACHE_LIMIT = 10_000;

    /** The path prefix a challenge request starts with. */
    public static final String PATH_PREFIX = "/.well-known/acme-challenge/";

    /** RFC 8555 tokens are base64url without padding; CAs send 43 characters, we allow up to 255 (a storage key segment). */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,255}");

    private final Map<String, String> keyAuthorizations = new ConcurrentHashMap<>();
    /** Storage shared with other nodes, or null for memory alone. */
    private final Storage shared;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.LongAdder answered = new java.util.concurrent.atomic.LongAdder();
    /** The tokens storage held at the last listing, and when (System.nanoTime); guarded by this. */
    private Set<String> listed = Set.of();
    private long listedAt;
    private boolean everListed;
    /** When the last token was written to storage (System.nanoTime). */
    private volatile long lastShared;

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
        Optional<String> answer = keyAuthorization(token);
        if (answer.isPresent()) {
            answered.increment();
        }
        return answer;
    }

    /** How many requests {@link #respond} answered with a key authorization. */
    long answered() {
        return answered.sum();
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
        if (cached != null && now - cached.at() < HIT_NANOS) {
            return cached.keyAuthorization();
        }
        if (!storedTokens(now).contains(token)) {
            return null; // a made-up token costs no storage read
        }
        try {
            Optional<byte[]> value = shared.load(STORAGE_PREFIX + "/" + token);
            if (value.isEmpty()) {
                return null;
            }
            String keyAuthorization = new String(value.get(), StandardCharsets.UTF_8).lines().findFirst().orElse("");
            if (!keyAuthorization.startsWith(token + ".")) {
                return null;
            }
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(token, new Cached(keyAuthorization, now));
            return keyAuthorization;
        } catch (IOException | RuntimeException e) {
            LOG.debug("Cannot read an HTTP-01 token from {}: {}", shared, e.toString());
            return null;
        }
    }

    /** The tokens in storage, listed again when the last listing is older than {@link #LIST_NANOS}. */
    private synchronized Set<String> storedTokens(long now) {
        if (everListed && now - listedAt < LIST_NANOS) {
            return listed;
        }
        everListed = true;
        listedAt = now; // also after a failure: a store that is down is not asked again at once
        try {
            Set<String> tokens = new HashSet<>();
            for (String key : shared.list(STORAGE_PREFIX)) {
                tokens.add(key.substring(STORAGE_PREFIX.length() + 1));
            }
            listed = tokens;
        } catch (IOException | RuntimeException e) {
            LOG.debug("Cannot list HTTP-01 tokens in {}: {}", shared, e.toString());
        }
        return listed;
    }

    /**
     * Waits, once a token is stored, until every node's listing of stored tokens includes it:
     * only then may the CA ask. Returns at once when no storage is shared.
     */
    void awaitShared() throws InterruptedException {
        if (shared == null) {
            return;
        }
        long left = lastShared + SHARE_WAIT_NANOS - System.nanoTime();
        if (left > 0) {
            Thread.sleep(left / 1_000_000 + 1);
        }
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
                lastShared = System.nanoTime();
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
