package dev.autocert.store.vault;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.jose4j.json.JsonUtil;
import org.jose4j.lang.JoseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Vault's HTTP API as {@link VaultStorage} uses it: JSON requests with the token in
 * {@code X-Vault-Token} (and {@code X-Vault-Namespace} when a namespace is set), answers parsed,
 * failures turned into {@link IOException}s that name the address, the path and the fix, and
 * never the token. Thread-safe.
 *
 * <p>With an AppRole, the client logs in, renews its token at two thirds of its TTL
 * ({@code POST /v1/auth/token/renew-self}) and logs in again when renewal fails or the token
 * reaches its maximum TTL, revoking the token it replaces ({@code POST /v1/auth/token/revoke-self},
 * best effort). Vault answers 403 both for a token that is no longer valid and for a request the
 * token's policies deny (the renew-only policy denies on purpose), so a 403 does not by itself
 * cause a login: the client first asks whether its token is still valid
 * ({@code GET /v1/auth/token/lookup-self}, which answers 403 for an expired or revoked token). Only
 * when it is not does it log in again and try the request once more, and such logins happen at
 * most once per {@link #REACTIVE_LOGIN_INTERVAL}; in between, the request fails with the
 * permission error. A token read from a file is read again on a 403, in case it was rotated.
 *
 * <p>Requests wait at most {@link #REQUEST_TIMEOUT} for their answer, or less when a
 * {@link Fence} says so (fenced writes, see {@link VaultStorage}). After {@link #close()} every
 * request fails with an {@link IOException} saying the store is closed.
 */
final class VaultClient {

    private static final Logger LOG = LoggerFactory.getLogger(VaultClient.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** How soon a failed renewal or login is tried again. */
    private static final Duration RELOGIN_RETRY = Duration.ofSeconds(10);
    /** The least time between two logins caused by refused requests (a token found invalid after a 403). */
    static final Duration REACTIVE_LOGIN_INTERVAL = Duration.ofSeconds(10);
    static final String LOOKUP_SELF = "/v1/auth/token/lookup-self";
    static final String REVOKE_SELF = "/v1/auth/token/revoke-self";

    /**
     * Called immediately before each HTTP request of a write is sent (again before a retry):
     * checks what the write depends on, throwing to stop it, and returns how long the request may
     * wait for its answer.
     */
    @FunctionalInterface
    interface Fence {
        /** No check; the usual timeout. */
        Fence NONE = () -> REQUEST_TIMEOUT;

        /** {@return the request's timeout, at most {@link #REQUEST_TIMEOUT}} */
        Duration beforeSend() throws IOException;
    }

    private final VaultLocation location;
    private final VaultCredentials credentials;
    private final Optional<String> namespace;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;

    private volatile Secret token;
    /** The TTL the last login granted, which renewals should restore; 0 when the token does not expire. */
    private long loginTtlSeconds;
    private ScheduledFuture<?> renewal;
    private volatile boolean closed;
    /** When the last login caused by a refused request happened, by {@link System#nanoTime()}; guarded by this. */
    private long reactiveLoginNanos;
    private boolean reactiveLoggedIn;
    /** Successful AppRole logins, for tests. */
    private final AtomicInteger logins = new AtomicInteger();

    /** An answer: its status and its JSON body (empty when it had none). */
    record Response(int status, Map<String, Object> body) {

        /** {@return the {@code data} object of the body, empty when absent} */
        @SuppressWarnings("unchecked")
        Map<String, Object> data() {
            return body.get("data") instanceof Map<?, ?> data ? (Map<String, Object>) data : Map.of();
        }

        /** {@return Vault's {@code errors}, joined, for messages} */
        String errors() {
            Object errors = body.get("errors");
            if (errors instanceof List<?> list && !list.isEmpty()) {
                return String.join("; ", list.stream().map(e -> String.valueOf(e).strip().replaceAll("\\s+", " ")).toList());
            }
            return body.containsKey("raw") ? String.valueOf(body.get("raw")) : "no message";
        }
    }

    VaultClient(VaultLocation location, VaultCredentials credentials, Optional<String> namespace, Optional<SSLContext> ssl,
            ScheduledExecutorService scheduler) {
        this.location = requireNonNull(location, "location");
        this.credentials = requireNonNull(credentials, "credentials");
        this.namespace = requireNonNull(namespace, "namespace");
        this.scheduler = requireNonNull(scheduler, "scheduler");
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER);
        ssl.ifPresent(builder::sslContext);
        this.http = builder.build();
        if (credentials instanceof VaultCredentials.Token t) {
            this.token = t.token();
        }
    }

    String credentialsSource() {
        return credentials.source();
    }

    String address() {
        return location.address().toString();
    }

    /** Logs in with the AppRole now, unless already logged in; does nothing for a token. */
    void ensureLoggedIn() throws IOException {
        ensureOpen();
        if (credentials instanceof VaultCredentials.AppRole && token == null) {
            login(null);
        }
    }

    /** Throws when {@link #close()} was called. */
    void ensureOpen() throws IOException {
        if (closed) {
            throw closedException();
        }
    }

    private IOException closedException() {
        return new IOException("the store is closed (" + location + "): it makes no more requests to Vault");
    }

    /** {@return how many AppRole logins succeeded}, for tests */
    int logins() {
        return logins.get();
    }

    /** {@return the token now in use}, for tests */
    Secret currentToken() {
        return token;
    }

    // ---------------------------------------------------------------- requests

    Response get(String path, String capability) throws IOException {
        return send("GET", path, null, capability, Fence.NONE);
    }

    Response list(String path, String capability) throws IOException {
        // GET ?list=true is Vault's documented alternative to the LIST method.
        return send("GET", path + "?list=true", null, capability, Fence.NONE);
    }

    Response post(String path, Map<String, Object> body, String capability) throws IOException {
        return send("POST", path, body, capability, Fence.NONE);
    }

    /** A POST that {@code fence} checks, and whose timeout it sets, before each time it is sent. */
    Response post(String path, Map<String, Object> body, String capability, Fence fence) throws IOException {
        return send("POST", path, body, capability, fence);
    }

    Response delete(String path, String capability) throws IOException {
        return send("DELETE", path, null, capability, Fence.NONE);
    }

    /**
     * Sends a request with the current token and returns the answer, whatever its status, except
     * 403 (permission denied), which is thrown as an {@link IOException} naming
     * {@code capability} (after a new login when the token was no longer valid, or a token file
     * read). Sealed servers and connection failures are thrown too.
     */
    Response send(String method, String path, Map<String, Object> body, String capability, Fence fence) throws IOException {
        Response response = exchange(method, path, body, fence);
        if (response.status() == 403) {
            throw new IOException("Vault at " + address() + " refused " + method + " " + apiPath(path) + ": permission denied ("
                    + response.errors() + "); the token's policies need \"" + capability + "\" on " + apiPath(path)
                    + " (credentials from " + credentials.source() + "; docs/storage.md has the policies)");
        }
        if (response.status() == 503) {
            throw new IOException("Vault at " + address() + " is unavailable (503: " + response.errors()
                    + "); it may be sealed or in standby: unseal it (bao operator unseal) or check its status");
        }
        return response;
    }

    /**
     * Sends a request with the current token and returns the answer, whatever its status; a 403
     * is tried once more when there is another token to try: a new login (AppRole) because the
     * token was no longer valid, or a changed token file. Connection failures are thrown.
     */
    Response exchange(String method, String path, Map<String, Object> body) throws IOException {
        return exchange(method, path, body, Fence.NONE);
    }

    private Response exchange(String method, String path, Map<String, Object> body, Fence fence) throws IOException {
        ensureLoggedIn();
        Secret used = token;
        Response response = sendOnce(method, path, body, used, fence);
        if (response.status() == 403) {
            Refresh refresh = refreshCredentials(used);
            if (refresh == Refresh.RETRY) {
                ensureOpen();
                response = sendOnce(method, path, body, token, fence);
            } else if (refresh == Refresh.INVALID_TOKEN_LOGIN_DEFERRED) {
                List<Object> errors = new java.util.ArrayList<>();
                if (response.body().get("errors") instanceof List<?> list) {
                    errors.addAll(list);
                }
                errors.add("the token itself is no longer valid (expired or revoked), and a new AppRole login after a refusal "
                        + "happens at most once per " + REACTIVE_LOGIN_INTERVAL.toSeconds() + " s: try again shortly");
                response = new Response(403, Map.of("errors", errors));
            }
        }
        return response;
    }

    /** Sends many GETs at once and returns their answers in order; for listings. */
    List<Response> getAll(List<String> paths, String capability) throws IOException {
        ensureLoggedIn();
        Secret used = token;
        List<CompletableFuture<Response>> futures = paths.stream()
                .map(path -> http.sendAsync(request("GET", path, null, used, REQUEST_TIMEOUT), HttpResponse.BodyHandlers.ofString())
                        .thenApply(VaultClient::parse))
                .toList();
        List<Response> responses = new java.util.ArrayList<>(paths.size());
        for (int i = 0; i < futures.size(); i++) {
            Response response;
            try {
                response = futures.get(i).join();
            } catch (java.util.concurrent.CompletionException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw unreachable("GET", paths.get(i), cause, REQUEST_TIMEOUT);
            }
            if (response.status() == 403 || response.status() == 503) {
                response = send("GET", paths.get(i), null, capability, Fence.NONE); // retries, or throws the message
            }
            responses.add(response);
        }
        return responses;
    }

    /** The message an unexpected answer becomes: what was done, where, and what Vault said. */
    IOException failure(String what, String method, String path, Response response) {
        return new IOException("Vault at " + address() + " could not " + what + " (" + method + " " + apiPath(path) + " answered "
                + response.status() + ": " + response.errors() + ")");
    }

    private static String apiPath(String path) {
        int query = path.indexOf('?');
        return query < 0 ? path : path.substring(0, query);
    }

    private Response sendOnce(String method, String path, Map<String, Object> body, Secret with, Fence fence) throws IOException {
        // The fence's check and the request's timer are as close together as they can be: nothing blocks between them.
        Duration timeout = fence.beforeSend();
        HttpRequest request = request(method, path, body, with, timeout);
        try {
            return parse(http.send(request, HttpResponse.BodyHandlers.ofString()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted during " + method + " " + apiPath(path) + " at " + address());
        } catch (IOException e) {
            throw unreachable(method, path, e, timeout);
        }
    }

    private IOException unreachable(String method, String path, Throwable e, Duration timeout) {
        String reason;
        if (e instanceof HttpTimeoutException) {
            reason = "no answer within " + (timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms");
        } else if (e instanceof ConnectException) {
            reason = "connection refused or unreachable";
        } else if (e instanceof SSLException) {
            reason = "TLS failed (" + e.getMessage() + "); if Vault's certificate is issued by a private CA, give its PEM "
                    + "in autocert.vault-ca-cert or VAULT_CACERT";
        } else {
            reason = e.getClass().getSimpleName() + (e.getMessage() != null ? " " + e.getMessage() : "");
        }
        return new IOException("cannot reach Vault at " + address() + " for " + method + " " + apiPath(path) + ": " + reason, e);
    }

    private HttpRequest request(String method, String path, Map<String, Object> body, Secret with, Duration timeout) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(address() + path))
                .timeout(timeout.compareTo(REQUEST_TIMEOUT) > 0 ? REQUEST_TIMEOUT
                        : timeout.isNegative() || timeout.isZero() ? Duration.ofMillis(1) : timeout)
                .header("Accept", "application/json");
        if (with != null) {
            builder.header("X-Vault-Token", with.reveal());
        }
        namespace.ifPresent(ns -> builder.header("X-Vault-Namespace", ns));
        if (body != null) {
            builder.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(JsonUtil.toJson(body), StandardCharsets.UTF_8));
        } else {
            builder.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return builder.build();
    }

    private static Response parse(HttpResponse<String> response) {
        String text = response.body() == null ? "" : response.body().strip();
        Map<String, Object> body = Map.of();
        if (!text.isEmpty()) {
            try {
                body = JsonUtil.parseJson(text);
            } catch (JoseException | RuntimeException e) {
                // A proxy's page, not Vault: quoted, shortened, in messages.
                body = Map.of("raw", text.length() > 200 ? text.substring(0, 200) + "…" : text);
            }
        }
        return new Response(response.statusCode(), body == null ? Map.of() : body);
    }

    // ---------------------------------------------------------------- credentials

    /** What to do after a 403. */
    private enum Refresh {
        /** There is another token: try once more with it. */
        RETRY,
        /** The token is valid (its policies deny the request), or it cannot be told: the 403 stands. */
        DENIED,
        /** The token is no longer valid, but a login after a refusal happened too recently: the 403 stands. */
        INVALID_TOKEN_LOGIN_DEFERRED
    }

    /**
     * After a 403 with {@code used}: with an AppRole, logs in again only when {@code used} is no
     * longer valid ({@code lookup-self} refuses it too), and at most once per
     * {@link #REACTIVE_LOGIN_INTERVAL}; with a token file, reads it again.
     */
    private Refresh refreshCredentials(Secret used) throws IOException {
        if (closed) {
            return Refresh.DENIED;
        }
        if (credentials instanceof VaultCredentials.AppRole) {
            synchronized (this) {
                if (token != used) {
                    return Refresh.RETRY; // another thread logged in meanwhile
                }
            }
            if (tokenValid(used)) {
                return Refresh.DENIED; // a policy denial, the usual case: logging in again would change nothing
            }
            synchronized (this) {
                if (token != used) {
                    return Refresh.RETRY;
                }
                long now = System.nanoTime();
                if (reactiveLoggedIn && now - reactiveLoginNanos < REACTIVE_LOGIN_INTERVAL.toNanos()) {
                    LOG.warn("Vault at {} no longer accepts the AppRole token, but the last login after a refusal was less than {} s "
                            + "ago; not logging in again yet", address(), REACTIVE_LOGIN_INTERVAL.toSeconds());
                    return Refresh.INVALID_TOKEN_LOGIN_DEFERRED;
                }
                reactiveLoggedIn = true;
                reactiveLoginNanos = now;
                LOG.info("Vault at {} no longer accepts the AppRole token (expired or revoked); logging in again", address());
                login(used);
                return token != used ? Refresh.RETRY : Refresh.DENIED;
            }
        }
        if (credentials instanceof VaultCredentials.Token t && t.file().isPresent()) {
            synchronized (this) {
                Secret reread;
                try {
                    reread = VaultCredentials.readSecret(t.file().get());
                } catch (IOException e) {
                    return Refresh.DENIED;
                }
                if (!reread.sameAs(token)) {
                    LOG.info("The token in {} changed; using the new one", t.file().get());
                    token = reread;
                }
                return reread.sameAs(used) ? Refresh.DENIED : Refresh.RETRY;
            }
        }
        return Refresh.DENIED;
    }

    /**
     * {@return whether Vault still accepts {@code used}}: {@code GET lookup-self} answers 403 only
     * for a token that is wrong, expired or revoked. Any other answer, or none, counts as valid,
     * so that an unclear answer never causes a login.
     */
    private boolean tokenValid(Secret used) {
        try {
            Response lookup = sendOnce("GET", LOOKUP_SELF, null, used, Fence.NONE);
            return lookup.status() != 403 && lookup.status() != 401;
        } catch (IOException e) {
            LOG.debug("Could not look up the Vault token at {}: {}", address(), e.getMessage());
            return true;
        }
    }

    /**
     * Logs in with the AppRole unless another thread did since {@code stale} was the token; then
     * revokes {@code stale}, in the background and best effort.
     */
    private synchronized void login(Secret stale) throws IOException {
        if (closed) {
            throw closedException();
        }
        if (token != stale) {
            return;
        }
        VaultCredentials.AppRole role = (VaultCredentials.AppRole) credentials;
        Secret secretId;
        try {
            secretId = role.currentSecretId();
        } catch (IOException e) {
            throw new IOException("cannot log in to Vault at " + address() + " with AppRole: the secret ID " + e.getMessage(), e);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("role_id", role.roleId());
        body.put("secret_id", secretId.reveal());
        String path = "/v1/auth/approle/login";
        Response response = sendOnce("POST", path, body, null, Fence.NONE);
        if (response.status() != 200) {
            String hint = response.status() == 400 || response.status() == 403
                    ? "; check the role ID and the secret ID (" + role.source() + "), and that the secret ID has not expired "
                            + "or used up its uses"
                    : response.status() == 404 || response.status() == 405
                            ? "; is AppRole enabled at auth/approle? (bao auth enable approle)" : "";
            throw new IOException("Vault at " + address() + " refused the AppRole login (POST " + path + " answered "
                    + response.status() + ": " + response.errors() + ")" + hint);
        }
        Map<?, ?> auth = response.body().get("auth") instanceof Map<?, ?> m ? m : Map.of();
        Object clientToken = auth.get("client_token");
        if (!(clientToken instanceof String value) || value.isEmpty()) {
            throw new IOException("Vault at " + address() + " answered the AppRole login without a token");
        }
        token = new Secret(value);
        logins.incrementAndGet();
        if (stale != null) {
            revokeInBackground(stale);
        }
        loginTtlSeconds = number(auth.get("lease_duration"));
        LOG.debug("Logged in to Vault at {} with AppRole; the token lasts {} s", address(), loginTtlSeconds);
        scheduleRenewal(loginTtlSeconds, Boolean.TRUE.equals(auth.get("renewable")));
    }

    /** Renews (or, when not renewable, replaces by a new login) the token at two thirds of {@code ttlSeconds}. */
    private synchronized void scheduleRenewal(long ttlSeconds, boolean renewable) {
        if (renewal != null) {
            renewal.cancel(false);
            renewal = null;
        }
        if (closed || ttlSeconds <= 0) {
            return; // a token without expiry
        }
        long delayMillis = Math.max(200, ttlSeconds * 1000 * 2 / 3);
        renewal = scheduler.schedule(renewable ? this::renew : this::relogin, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void renew() {
        Secret current = token;
        if (closed || current == null) {
            return;
        }
        try {
            Response response = sendOnce("POST", "/v1/auth/token/renew-self", Map.of(), current, Fence.NONE);
            Map<?, ?> auth = response.body().get("auth") instanceof Map<?, ?> m ? m : Map.of();
            long ttl = number(auth.get("lease_duration"));
            if (response.status() == 200 && ttl >= loginTtlSeconds) {
                LOG.debug("Renewed the Vault token for another {} s", ttl);
                scheduleRenewal(ttl, Boolean.TRUE.equals(auth.get("renewable")));
                return;
            }
            LOG.debug("The Vault token {}; logging in again", response.status() == 200
                    ? "reaches its maximum TTL in " + ttl + " s" : "could not be renewed (" + response.status() + ")");
        } catch (IOException | RuntimeException e) {
            LOG.debug("Could not renew the Vault token: {}; logging in again", e.getMessage());
        }
        relogin();
    }

    /** Logs in again, replacing (and revoking) the current token; on failure, tries again later. Package-private for tests. */
    void relogin() {
        if (closed) {
            return;
        }
        try {
            synchronized (this) {
                login(token);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not log in to Vault again; trying in {} s: {}", RELOGIN_RETRY.toSeconds(), e.getMessage());
            synchronized (this) {
                if (!closed) {
                    renewal = scheduler.schedule(this::relogin, RELOGIN_RETRY.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
        }
    }

    private static long number(Object value) {
        return value instanceof Number n ? n.longValue() : 0;
    }

    /**
     * Stops renewing the token, and revokes it when this client logged in with AppRole (the token
     * is its own). A given token is not revoked: another process may share it.
     */
    void close() {
        Secret own;
        synchronized (this) {
            closed = true;
            if (renewal != null) {
                renewal.cancel(false);
                renewal = null;
            }
            own = credentials instanceof VaultCredentials.AppRole ? token : null;
            token = null;
        }
        if (own != null) {
            revoke(own, "its AppRole token, at close");
        }
    }

    /** Revokes an AppRole token this client no longer uses, on the scheduler (here when it is shut down). */
    private void revokeInBackground(Secret old) {
        try {
            scheduler.execute(() -> revoke(old, "a replaced AppRole token"));
        } catch (RejectedExecutionException e) {
            revoke(old, "a replaced AppRole token");
        }
    }

    /** {@code POST revoke-self} with {@code old}, best effort: a token that is not revoked expires by itself. */
    private void revoke(Secret old, String what) {
        try {
            Response response = sendOnce("POST", REVOKE_SELF, Map.of(), old, Fence.NONE);
            if (response.status() / 100 == 2) {
                LOG.debug("Revoked {} at {}", what, address());
            } else {
                LOG.debug("Vault at {} did not revoke {} ({}: {}); it expires by itself", address(), what, response.status(),
                        response.errors());
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("Could not revoke {} at {}; it expires by itself: {}", what, address(), e.getMessage());
        }
    }
}
