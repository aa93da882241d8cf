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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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
 * reaches its maximum TTL; a request refused with 403 logs in again and is tried once more. A
 * token read from a file is read again on a 403, in case it was rotated.
 */
final class VaultClient {

    private static final Logger LOG = LoggerFactory.getLogger(VaultClient.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** How soon a failed renewal or login is tried again. */
    private static final Duration RELOGIN_RETRY = Duration.ofSeconds(10);

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
        if (credentials instanceof VaultCredentials.AppRole && token == null) {
            if (closed) {
                throw new IOException("the Vault store at " + address() + " is closed");
            }
            login(null);
        }
    }

    // ---------------------------------------------------------------- requests

    Response get(String path, String capability) throws IOException {
        return send("GET", path, null, capability);
    }

    Response list(String path, String capability) throws IOException {
        // GET ?list=true is Vault's documented alternative to the LIST method.
        return send("GET", path + "?list=true", null, capability);
    }

    Response post(String path, Map<String, Object> body, String capability) throws IOException {
        return send("POST", path, body, capability);
    }

    Response delete(String path, String capability) throws IOException {
        return send("DELETE", path, null, capability);
    }

    /**
     * Sends a request with the current token and returns the answer, whatever its status, except
     * 403 (permission denied), which is thrown as an {@link IOException} naming
     * {@code capability} after one new login (AppRole) or token file read. Sealed servers and
     * connection failures are thrown too.
     */
    Response send(String method, String path, Map<String, Object> body, String capability) throws IOException {
        Response response = exchange(method, path, body);
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
     * is tried once more after a new login (AppRole) or token file read. Connection failures are
     * thrown.
     */
    Response exchange(String method, String path, Map<String, Object> body) throws IOException {
        ensureLoggedIn();
        Secret used = token;
        Response response = sendOnce(method, path, body, used);
        if (response.status() == 403 && refreshCredentials(used)) {
            response = sendOnce(method, path, body, token);
        }
        return response;
    }

    /** Sends many GETs at once and returns their answers in order; for listings. */
    List<Response> getAll(List<String> paths, String capability) throws IOException {
        ensureLoggedIn();
        Secret used = token;
        List<CompletableFuture<Response>> futures = paths.stream()
                .map(path -> http.sendAsync(request("GET", path, null, used), HttpResponse.BodyHandlers.ofString())
                        .thenApply(VaultClient::parse))
                .toList();
        List<Response> responses = new java.util.ArrayList<>(paths.size());
        for (int i = 0; i < futures.size(); i++) {
            Response response;
            try {
                response = futures.get(i).join();
            } catch (java.util.concurrent.CompletionException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw unreachable("GET", paths.get(i), cause);
            }
            if (response.status() == 403 || response.status() == 503) {
                response = send("GET", paths.get(i), null, capability); // retries, or throws the message
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

    private Response sendOnce(String method, String path, Map<String, Object> body, Secret with) throws IOException {
        try {
            return parse(http.send(request(method, path, body, with), HttpResponse.BodyHandlers.ofString()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted during " + method + " " + apiPath(path) + " at " + address());
        } catch (IOException e) {
            throw unreachable(method, path, e);
        }
    }

    private IOException unreachable(String method, String path, Throwable e) {
        String reason;
        if (e instanceof HttpTimeoutException) {
            reason = "no answer within " + REQUEST_TIMEOUT.toSeconds() + " s";
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

    private HttpRequest request(String method, String path, Map<String, Object> body, Secret with) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(address() + path))
                .timeout(REQUEST_TIMEOUT)
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

    /**
     * After a 403 with {@code used}: logs in again (AppRole) or reads the token file again.
     * {@return whether there is a different token to try}
     */
    private boolean refreshCredentials(Secret used) throws IOException {
        if (closed) {
            return false;
        }
        if (credentials instanceof VaultCredentials.AppRole) {
            synchronized (this) {
                if (token == used) {
                    LOG.info("Vault at {} refused the AppRole token; logging in again", address());
                    login(used);
                }
                return token != used;
            }
        }
        if (credentials instanceof VaultCredentials.Token t && t.file().isPresent()) {
            synchronized (this) {
                Secret reread;
                try {
                    reread = VaultCredentials.readSecret(t.file().get());
                } catch (IOException e) {
                    return false;
                }
                if (!reread.sameAs(token)) {
                    LOG.info("The token in {} changed; using the new one", t.file().get());
                    token = reread;
                }
                return !reread.sameAs(used);
            }
        }
        return false;
    }

    /** Logs in with the AppRole unless another thread did since {@code stale} was the token. */
    private synchronized void login(Secret stale) throws IOException {
        if (closed) {
            throw new IOException("the Vault store at " + address() + " is closed");
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
        Response response = sendOnce("POST", path, body, null);
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
        try {
            Response response = sendOnce("POST", "/v1/auth/token/renew-self", Map.of(), current);
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

    private void relogin() {
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
            try {
                sendOnce("POST", "/v1/auth/token/revoke-self", Map.of(), own);
            } catch (IOException e) {
                LOG.debug("Could not revoke the AppRole token at {}; it expires by itself: {}", address(), e.getMessage());
            }
        }
    }
}
