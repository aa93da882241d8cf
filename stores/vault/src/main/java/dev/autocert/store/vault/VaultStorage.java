package dev.autocert.store.vault;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.LockLostException;
import dev.autocert.core.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Storage} in a HashiCorp Vault or OpenBao KV version 2 secrets engine, so that the servers
 * of a cluster share accounts, certificates and locks: {@code autocert.storage=vault:https://HOST:8200/MOUNT/PATH}.
 * Thread-safe, and safe for several processes sharing the path.
 *
 * <h2>Layout</h2>
 * The key {@code a/b/c.pem} is the secret {@code PATH/a/b/c.pem} of the mount, whose one field
 * {@code value} holds the bytes in base64. A set ({@link #storeSet}, the four PEM files of
 * {@code live/NAME}) is one secret {@code PATH/live/NAME}, written in one request, with the fields
 * {@code cert}, {@code chain}, {@code fullchain} and {@code privkey} holding the PEM text, so other
 * tools read the current version at one path ({@code bao kv get -field=fullchain
 * secret/autocert/live/example.com}); the field {@code autocert-files} keeps the file names.
 * {@link #load} and {@link #list} show a set's files as keys ({@code live/NAME/cert.pem}).
 * Autocert's own records are kept under {@code PATH/~autocert/}, outside the keys callers can
 * name ({@code ~} is not a key character): the change marker {@code ~autocert/changes}, a secret
 * written on every change whose version is {@link #changeMarker()}, and the locks
 * {@code ~autocert/locks/NAME}.
 *
 * <h2>Locks</h2>
 * A lock is a secret holding its owner and lease, written with KV check-and-set (see
 * {@link VaultLock}): taken when absent or released, extended every third of the lease, and
 * taken over only when its version has stayed the same for a whole lease, as measured on the
 * contender's own monotonic clock. No clocks of different hosts are compared.
 *
 * <h2>Fenced writes</h2>
 * Vault cannot make "write only while this lock is held" one atomic step (check-and-set guards one
 * secret, the lock, not another). {@link #store(String, byte[], Lock)} therefore checks the lock
 * first ({@link Lock#ensureHeld()}, which refuses a lock whose last confirmed extension is older
 * than half its lease) and then writes. A contender takes the lock over only after a whole lease
 * without an extension, so a write checked within half a lease of the last extension reaches Vault
 * before anyone else can hold the lock, unless the request itself takes longer than half the
 * lease: leases are minutes, requests are milliseconds.
 *
 * <h2>Cost</h2>
 * {@link #load}: one GET (two for a set's file). {@link #store}: a GET, a POST and the marker's
 * POST. {@link #list}: one LIST per folder under the prefix and one GET per secret, sent in
 * parallel. {@link #changeMarker()}: one GET. Vault cannot notify, so {@link #watch} does nothing
 * and followers poll the marker.
 */
public final class VaultStorage implements Storage {

    private static final Logger LOG = LoggerFactory.getLogger(VaultStorage.class);

    /** Autocert's records, beside the keys: {@code ~} is not a key character, so no key can collide. */
    static final String INTERNAL = "~autocert";
    static final String MARKER = INTERNAL + "/changes";
    static final String LOCKS = INTERNAL + "/locks/";
    /** How many GETs or LISTs a listing sends at once. */
    private static final int PARALLEL_REQUESTS = 16;
    /** How often a set's read-modify-write is tried when other writers keep changing it. */
    private static final int SET_UPDATE_ATTEMPTS = 10;

    /** Lease extensions and token renewals of every VaultStorage: daemon threads, shared. */
    private static final ScheduledExecutorService SHARED_SCHEDULER = Executors.newScheduledThreadPool(2, r -> {
        Thread thread = new Thread(r, "autocert-vault-lease");
        thread.setDaemon(true);
        return thread;
    });

    private final VaultLocation location;
    private final VaultClient client;
    private final ScheduledExecutorService scheduler;
    private final String instance = UUID.randomUUID().toString();
    /** What this process saw of locks held by others: their version and since when, on this host's monotonic clock. */
    private final Map<String, VaultLock.Sighting> sightings = new ConcurrentHashMap<>();
    private final Collection<VaultLock> heldLocks = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private VaultStorage(VaultLocation location, VaultCredentials credentials, Optional<String> namespace,
            Optional<SSLContext> ssl, ScheduledExecutorService scheduler) {
        this.location = location;
        this.scheduler = scheduler;
        this.client = new VaultClient(location, credentials, namespace, ssl, scheduler);
    }

    /**
     * Returns a builder for a store at {@code location}.
     *
     * @param location {@code vault:https://HOST:PORT/MOUNT/PATH} (or without {@code vault:}): Vault's
     *     address, the mount of a KV version 2 secrets engine and the path under it, such as
     *     {@code vault:https://vault.example:8200/secret/autocert}
     * @throws dev.autocert.core.InvalidSettingException when the location is not of that form
     */
    public static Builder builder(String location) {
        return new Builder(VaultLocation.parse(requireNonNull(location, "location")));
    }

    // ---------------------------------------------------------------- Storage

    /**
     * Checks the token ({@code GET /v1/auth/token/lookup-self}, after the AppRole login), that the
     * mount is a KV version 2 secrets engine, and that the change marker can be read.
     */
    @Override
    public void open() throws IOException {
        client.ensureLoggedIn();
        String lookup = "/v1/auth/token/lookup-self";
        VaultClient.Response self = client.exchange("GET", lookup, null);
        if (self.status() == 403 || self.status() == 401) {
            throw new IOException("Vault at " + client.address() + " refused the token (GET " + lookup + ": " + self.errors()
                    + "): it is wrong, expired or revoked, or lacks the default policy. Credentials came from "
                    + client.credentialsSource() + ".");
        }
        if (self.status() != 200) {
            throw client.failure("check the token", "GET", lookup, self);
        }
        checkMount();
        changeMarker();
        LOG.debug("Opened {}", this);
    }

    private void checkMount() throws IOException {
        String path = "/v1/sys/internal/ui/mounts/" + location.displayPath();
        VaultClient.Response mount = client.exchange("GET", path, null);
        String enable = "bao secrets enable -version=2 -path=" + location.mount() + " kv";
        if (mount.status() == 403 || mount.status() == 404) {
            throw new IOException("Vault at " + client.address() + " has no secrets engine at " + location.mount()
                    + "/, or the token may use nothing under " + location.displayPath() + " (GET " + path + " answered "
                    + mount.status() + ": " + mount.errors() + "). Enable a KV version 2 engine there (" + enable
                    + ") and give the token a policy for " + location.displayPath() + " (docs/storage.md).");
        }
        if (mount.status() != 200) {
            throw client.failure("read the mount " + location.mount() + "/", "GET", path, mount);
        }
        Map<String, Object> data = mount.data();
        String mountPath = String.valueOf(data.get("path"));
        if (!mountPath.equals(location.mount() + "/")) {
            throw new IOException("Vault at " + client.address() + ": " + location.displayPath() + " is in the secrets engine mounted at "
                    + mountPath + ", not at " + location.mount() + "/; the location's first path segment must be the whole mount path");
        }
        String type = String.valueOf(data.get("type"));
        Object options = data.get("options");
        String version = options instanceof Map<?, ?> map ? String.valueOf(map.get("version")) : "1";
        if (!type.equals("kv")) {
            throw new IOException("Vault at " + client.address() + ": " + location.mount() + "/ is a " + type
                    + " secrets engine; Autocert needs a KV version 2 engine (" + enable + ")");
        }
        if (!version.equals("2")) {
            throw new IOException("Vault at " + client.address() + ": " + location.mount() + "/ is a KV version 1 secrets engine; "
                    + "Autocert needs version 2 (versions and check-and-set): upgrade it in place with bao kv enable-versioning "
                    + location.mount() + "/ or use a new mount (" + enable + ")");
        }
    }

    @Override
    public Optional<byte[]> load(String key) throws IOException {
        Storage.checkKey(key);
        Optional<Read> own = read(key);
        if (own.isPresent() && own.get().content() instanceof SecretLayout.Value value) {
            return Optional.of(value.bytes());
        }
        String parent = parentOf(key);
        if (parent != null) {
            Optional<Read> set = read(parent);
            if (set.isPresent() && set.get().content() instanceof SecretLayout.SetOfFiles files) {
                return Optional.ofNullable(files.files().get(nameOf(key))).map(byte[]::clone);
            }
        }
        return Optional.empty();
    }

    @Override
    public void store(String key, byte[] value) throws IOException {
        Storage.checkKey(key);
        requireNonNull(value, "value");
        String parent = parentOf(key);
        if (parent == null || !updateSetFile(parent, nameOf(key), value)) {
            write(key, SecretLayout.value(value), "store " + key);
        }
        changed();
    }

    /**
     * Replaces the set under {@code prefix} with {@code values} in one write: readers see the old
     * set or the new one. Values stored earlier as keys of their own under {@code prefix/} are
     * deleted afterwards.
     */
    @Override
    public void storeSet(String prefix, Map<String, byte[]> values) throws IOException {
        Storage.checkKey(prefix);
        Map<String, byte[]> files = new TreeMap<>();
        for (Map.Entry<String, byte[]> entry : values.entrySet()) {
            if (Storage.checkKey(entry.getKey()).contains("/")) {
                throw new IllegalArgumentException("A set's names are single segments: " + entry.getKey());
            }
            files.put(entry.getKey(), requireNonNull(entry.getValue(), "value of " + entry.getKey()));
        }
        if (files.isEmpty()) {
            deleteSecretIfSet(prefix);
        } else {
            write(prefix, SecretLayout.set(files), "store the set " + prefix);
            deleteShadowedKeys(prefix);
        }
        changed();
    }

    @Override
    public void store(String key, byte[] value, Lock guard) throws IOException {
        guard.ensureHeld();
        store(key, value);
    }

    @Override
    public void storeSet(String prefix, Map<String, byte[]> values, Lock guard) throws IOException {
        guard.ensureHeld();
        storeSet(prefix, values);
    }

    @Override
    public boolean delete(String key) throws IOException {
        Storage.checkKey(key);
        Optional<Read> own = read(key);
        if (own.isPresent() && own.get().content() instanceof SecretLayout.Value) {
            deleteSecret(key);
            changed();
            return true;
        }
        String parent = parentOf(key);
        if (parent != null && removeSetFile(parent, nameOf(key))) {
            changed();
            return true;
        }
        return false;
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        Storage.checkKey(prefix);
        List<String> secrets = new ArrayList<>();
        secrets.add(prefix); // a set's files are under prefix/ though the set is a secret at prefix
        List<String> folders = List.of(prefix + "/");
        while (!folders.isEmpty()) {
            List<String> next = new ArrayList<>();
            List<String> paths = folders.stream().map(folder -> location.metadataPath(folder) + "?list=true").toList();
            List<VaultClient.Response> answers = getAll(paths, "list");
            for (int i = 0; i < folders.size(); i++) {
                VaultClient.Response answer = answers.get(i);
                if (answer.status() == 404) {
                    continue;
                }
                if (answer.status() != 200) {
                    throw client.failure("list " + folders.get(i), "LIST", location.metadataPath(folders.get(i)), answer);
                }
                Object keys = answer.data().get("keys");
                for (Object entry : keys instanceof List<?> l ? l : List.of()) {
                    String name = String.valueOf(entry);
                    if (name.endsWith("/")) {
                        next.add(folders.get(i) + name);
                    } else {
                        secrets.add(folders.get(i) + name);
                    }
                }
            }
            folders = next;
        }
        List<VaultClient.Response> reads = getAll(secrets.stream().map(location::dataPath).toList(), "read");
        TreeSet<String> keys = new TreeSet<>();
        for (int i = 0; i < secrets.size(); i++) {
            String secret = secrets.get(i);
            Optional<Read> read = toRead(secret, reads.get(i));
            if (read.isEmpty()) {
                continue;
            }
            if (read.get().content() instanceof SecretLayout.SetOfFiles files) {
                files.files().keySet().forEach(file -> keys.add(secret + "/" + file));
            } else if (read.get().content() instanceof SecretLayout.Value && i > 0) {
                keys.add(secret);
            }
        }
        return List.copyOf(keys);
    }

    private List<VaultClient.Response> getAll(List<String> paths, String capability) throws IOException {
        List<VaultClient.Response> answers = new ArrayList<>(paths.size());
        for (int from = 0; from < paths.size(); from += PARALLEL_REQUESTS) {
            answers.addAll(client.getAll(paths.subList(from, Math.min(paths.size(), from + PARALLEL_REQUESTS)), capability));
        }
        return answers;
    }

    /** The version of {@code PATH/~autocert/changes}, which every write and delete of this store bumps; one GET. */
    @Override
    public Optional<String> changeMarker() throws IOException {
        String path = location.metadataPath(MARKER);
        VaultClient.Response answer = client.get(path, "read");
        if (answer.status() == 404) {
            return Optional.of("v0");
        }
        if (answer.status() != 200) {
            throw client.failure("read the change marker " + MARKER, "GET", path, answer);
        }
        Object version = answer.data().get("current_version");
        return Optional.of("v" + (version instanceof Number n ? n.longValue() : 0));
    }

    /** Does nothing: Vault cannot notify. Followers poll {@link #changeMarker()}. */
    @Override
    public void watch(Runnable onChange) {
        requireNonNull(onChange, "onChange");
    }

    @Override
    public Optional<Lock> tryLock(String name, Duration lease) throws IOException {
        Storage.checkKey(name);
        requireNonNull(lease, "lease");
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("A lease must be positive: " + lease);
        }
        if (closed) {
            throw new IOException(this + " is closed");
        }
        return VaultLock.tryLock(this, name, lease);
    }

    /** Releases the locks still held and stops renewing the token. Closing twice does nothing. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        IOException failure = null;
        for (VaultLock lock : List.copyOf(heldLocks)) {
            try {
                lock.close();
            } catch (IOException e) {
                failure = e;
            }
        }
        client.close();
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "VaultStorage[" + location + "]";
    }

    // ---------------------------------------------------------------- for VaultLock

    /** What one secret holds now. */
    record Read(long version, Map<String, Object> data, SecretLayout.Content content) {
    }

    String instance() {
        return instance;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    Map<String, VaultLock.Sighting> sightings() {
        return sightings;
    }

    void held(VaultLock lock, boolean held) {
        if (held) {
            heldLocks.add(lock);
        } else {
            heldLocks.remove(lock);
        }
    }

    /** Reads the secret at {@code path} (under the base); empty when there is none. */
    Optional<Read> read(String path) throws IOException {
        String api = location.dataPath(path);
        return toRead(path, client.get(api, "read"));
    }

    private Optional<Read> toRead(String path, VaultClient.Response answer) throws IOException {
        if (answer.status() == 404) {
            return Optional.empty();
        }
        if (answer.status() != 200) {
            throw client.failure("read " + path, "GET", location.dataPath(path), answer);
        }
        Map<String, Object> data = answer.data();
        if (!(data.get("data") instanceof Map<?, ?> fields)) {
            return Optional.empty(); // every version deleted or destroyed
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) fields;
        long version = data.get("metadata") instanceof Map<?, ?> metadata && metadata.get("version") instanceof Number n
                ? n.longValue() : 0;
        return Optional.of(new Read(version, values, SecretLayout.decode(values)));
    }

    /**
     * Writes {@code data} at {@code path} if its current version is {@code expected} (0: only if
     * there is none).
     *
     * @return the new version, or empty when the version was another (check-and-set refused)
     */
    OptionalLong writeIfVersion(String path, Map<String, Object> data, long expected) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("data", data);
        body.put("options", Map.of("cas", expected));
        String api = location.dataPath(path);
        VaultClient.Response answer = client.post(api, body, expected == 0 ? "create" : "update");
        if (answer.status() == 400 && answer.errors().contains("check-and-set")) {
            return OptionalLong.empty();
        }
        if (answer.status() != 200) {
            throw client.failure("write " + path, "POST", api, answer);
        }
        Object version = answer.data().get("version");
        return OptionalLong.of(version instanceof Number n ? n.longValue() : expected + 1);
    }

    private void write(String path, Map<String, Object> data, String what) throws IOException {
        String api = location.dataPath(path);
        VaultClient.Response answer = client.post(api, Map.of("data", data), "create\" or \"update");
        if (answer.status() != 200 && answer.status() != 204) {
            throw client.failure(what, "POST", api, answer);
        }
    }

    private void deleteSecret(String path) throws IOException {
        String api = location.metadataPath(path);
        VaultClient.Response answer = client.delete(api, "delete");
        if (answer.status() != 204 && answer.status() != 200 && answer.status() != 404) {
            throw client.failure("delete " + path, "DELETE", api, answer);
        }
    }

    /** Bumps the change marker. */
    private void changed() throws IOException {
        write(MARKER, Map.of("last-writer", instance), "record the change in " + MARKER);
    }

    // ---------------------------------------------------------------- sets

    /** Stores {@code file} in the set at {@code set} when there is one; {@return whether there was} */
    private boolean updateSetFile(String set, String file, byte[] value) throws IOException {
        for (int attempt = 0; attempt < SET_UPDATE_ATTEMPTS; attempt++) {
            Optional<Read> read = read(set);
            if (read.isEmpty() || !(read.get().content() instanceof SecretLayout.SetOfFiles files)) {
                return false;
            }
            Map<String, byte[]> updated = new TreeMap<>(files.files());
            updated.put(file, value);
            if (writeIfVersion(set, SecretLayout.set(updated), read.get().version()).isPresent()) {
                return true;
            }
        }
        throw new IOException("Vault at " + client.address() + ": the set " + set + " kept changing; " + file + " was not stored");
    }

    /** Removes {@code file} from the set at {@code set}, and the set when it was its last; {@return whether it was there} */
    private boolean removeSetFile(String set, String file) throws IOException {
        for (int attempt = 0; attempt < SET_UPDATE_ATTEMPTS; attempt++) {
            Optional<Read> read = read(set);
            if (read.isEmpty() || !(read.get().content() instanceof SecretLayout.SetOfFiles files)
                    || !files.files().containsKey(file)) {
                return false;
            }
            Map<String, byte[]> remaining = new TreeMap<>(files.files());
            remaining.remove(file);
            // An empty set is written first, by check-and-set, so a set stored meanwhile is not deleted unseen.
            if (writeIfVersion(set, SecretLayout.set(remaining), read.get().version()).isPresent()) {
                if (remaining.isEmpty()) {
                    deleteSecret(set);
                }
                return true;
            }
        }
        throw new IOException("Vault at " + client.address() + ": the set " + set + " kept changing; " + file + " was not deleted");
    }

    private void deleteSecretIfSet(String prefix) throws IOException {
        Optional<Read> read = read(prefix);
        if (read.isPresent() && read.get().content() instanceof SecretLayout.SetOfFiles) {
            deleteSecret(prefix);
        }
    }

    /** Deletes values stored as keys of their own directly under {@code set/}: the set replaced them. */
    private void deleteShadowedKeys(String set) throws IOException {
        String api = location.metadataPath(set + "/") + "?list=true";
        VaultClient.Response answer = client.get(api, "list");
        if (answer.status() != 200) {
            return; // 404: none, the usual case
        }
        Object keys = answer.data().get("keys");
        for (Object entry : keys instanceof List<?> l ? l : List.of()) {
            String name = String.valueOf(entry);
            if (!name.endsWith("/")) {
                Optional<Read> read = read(set + "/" + name);
                if (read.isPresent() && read.get().content() instanceof SecretLayout.Value) {
                    deleteSecret(set + "/" + name);
                }
            }
        }
    }

    private static String parentOf(String key) {
        int slash = key.lastIndexOf('/');
        return slash < 0 ? null : key.substring(0, slash);
    }

    private static String nameOf(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    LockLostException lockLost(String name, String how) {
        return new LockLostException("lock " + name + " in " + this + " " + how);
    }

    /**
     * Configures a {@link VaultStorage}: its location, and a token, a token file or an AppRole.
     * Not thread-safe; the store it builds is.
     */
    public static final class Builder {

        private final VaultLocation location;
        private VaultCredentials credentials;
        private String namespace;
        private Path caCertificates;
        private ScheduledExecutorService scheduler = SHARED_SCHEDULER;

        private Builder(VaultLocation location) {
            this.location = location;
        }

        /**
         * Logs in with {@code token}.
         *
         * @return this builder
         */
        public Builder token(String token) {
            this.credentials = new VaultCredentials.Token(new Secret(requireNonNull(token, "token").strip()), Optional.empty(),
                    "the token given to VaultStorage.Builder");
            return this;
        }

        /**
         * Logs in with the token in {@code file} (trimmed), read now and again whenever Vault
         * refuses it, so a token that Vault Agent rotates keeps working.
         *
         * @return this builder
         * @throws IllegalArgumentException when the file is missing, unreadable or empty
         */
        public Builder tokenFile(Path file) {
            try {
                this.credentials = VaultCredentials.Token.fromFile(requireNonNull(file, "file"), "the token file");
            } catch (IOException e) {
                throw new IllegalArgumentException("Vault token file: " + e.getMessage(), e);
            }
            return this;
        }

        /**
         * Logs in with an AppRole, renewing the token while the store is open.
         *
         * @return this builder
         */
        public Builder appRole(String roleId, String secretId) {
            this.credentials = new VaultCredentials.AppRole(requireNonNull(roleId, "roleId"),
                    Optional.of(new Secret(requireNonNull(secretId, "secretId"))), Optional.empty(), "the AppRole given to VaultStorage.Builder");
            return this;
        }

        /**
         * Logs in with an AppRole whose secret ID is in {@code secretIdFile}, read at every login.
         *
         * @return this builder
         */
        public Builder appRole(String roleId, Path secretIdFile) {
            this.credentials = new VaultCredentials.AppRole(requireNonNull(roleId, "roleId"), Optional.empty(),
                    Optional.of(requireNonNull(secretIdFile, "secretIdFile")), "the AppRole secret ID file " + secretIdFile);
            return this;
        }

        /**
         * Sends {@code X-Vault-Namespace} with every request (Vault Enterprise and OpenBao namespaces).
         *
         * @return this builder
         */
        public Builder namespace(String namespace) {
            this.namespace = requireNonNull(namespace, "namespace").isBlank() ? null : namespace.strip();
            return this;
        }

        /**
         * Trusts the PEM certificates in {@code pemFile} for Vault's HTTPS, besides the JVM's.
         *
         * @return this builder
         */
        public Builder caCertificates(Path pemFile) {
            this.caCertificates = requireNonNull(pemFile, "pemFile");
            return this;
        }

        Builder credentials(VaultCredentials credentials) {
            this.credentials = requireNonNull(credentials, "credentials");
            return this;
        }

        Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * Builds the store; nothing is connected until {@link VaultStorage#open()}.
         *
         * @throws IllegalStateException when no credentials were given
         * @throws IllegalArgumentException when the CA certificates cannot be read
         */
        public VaultStorage build() {
            if (credentials == null) {
                throw new IllegalStateException("Vault needs credentials: call token(), tokenFile() or appRole()");
            }
            Optional<SSLContext> ssl;
            try {
                ssl = caCertificates == null ? Optional.empty() : Optional.of(VaultTls.trusting(caCertificates));
            } catch (IOException e) {
                throw new IllegalArgumentException("Vault CA certificates: " + e.getMessage(), e);
            }
            return new VaultStorage(location, credentials, Optional.ofNullable(namespace), ssl, scheduler);
        }
    }
}
