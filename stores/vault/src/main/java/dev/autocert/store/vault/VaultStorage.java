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
 * <h2>Deleting, and tombstones</h2>
 * {@link #delete} of a key stored as a secret of its own deletes that secret
 * ({@code DELETE /v1/MOUNT/metadata/…}, Vault's {@code delete} capability): that is what the caller
 * asked, and a store of the same key racing it is simply ordered before it. (Autocert never uses
 * one path both as a key and as a set.) But KV version 2 has no check-and-set delete: where the
 * store decides from a read that a secret should go, another writer could re-create it between
 * the read and the delete, which would destroy that new write. That is so when removing a set's
 * last file ({@code delete("live/NAME/cert.pem")}), storing an empty set, and removing the keys of
 * their own that a new set replaced. There the store never deletes: it writes a
 * <em>tombstone</em>, the one field {@code autocert-deleted=true}, by check-and-set on the version
 * it read, so a write that landed meanwhile makes the tombstone fail instead (the store then reads
 * again, or, for an empty set, lets the later write stand). {@link #load}, {@link #list} and
 * {@link #delete} treat a tombstone as absent, and a later {@link #store} or {@link #storeSet}
 * writes over it. Tombstones stay, a few bytes each, with their secrets' version history; an
 * operator may remove them ({@code bao kv metadata delete}) while no Autocert writes there.
 *
 * <h2>Locks</h2>
 * A lock is a secret holding its owner and lease, written with KV check-and-set (see
 * {@link VaultLock}): taken when absent or released, extended every third of the lease, and
 * taken over only when its version has stayed the same for a whole lease, as measured on the
 * contender's own monotonic clock. No clocks of different hosts are compared.
 *
 * <h2>Fenced writes</h2>
 * Vault cannot make "write only while this lock is held" one atomic step: check-and-set guards
 * one secret, the lock, not another. Fenced writes ({@link #store(String, byte[], Lock)},
 * {@link #storeSet(String, Map, Lock)}) instead bound by time when each of their writes can reach
 * Vault. Let {@code L} be the lease and {@code c} the moment, on the holder's monotonic clock,
 * at which the holder <em>sent</em> the last extension of the lock that Vault accepted (or the
 * write that took it).
 * <ol>
 * <li>A contender takes the lock over only once it has seen the same version of the lock for a
 *     whole {@code L} on its own monotonic clock ({@link VaultLock}). It cannot see that version
 *     before Vault wrote it, which is after {@code c}; so no one else holds the lock before
 *     {@code c + L}.
 * <li>Immediately before <em>each</em> POST of a fenced write (each check-and-set attempt on a
 *     set, and the attempt after a new login), the holder checks that {@code now - c < L/2}; when
 *     not, it extends the lease synchronously, which sets {@code c} to that extension's sending
 *     time, or throws {@link LockLostException}. The GETs between those POSTs need no check.
 * <li>Each of those POSTs waits at most {@code L/4} for its answer (and never more than 30 s);
 *     then the client gives up and the write fails.
 * </ol>
 * So a fenced write that Vault applies while its request is waited for lands before
 * {@code c + L/2 + L/4 = c + 3L/4 < c + L}: before anyone else can hold the lock. The last
 * {@code L/4} is the margin for the two hosts' clocks running at different rates (up to a third)
 * and for the moment between the check and the sending. With the engine's lease of one minute:
 * a check refuses or extends a lock last confirmed 30 s ago, requests are cut at 15 s, and 15 s
 * remain. What this cannot cover: the holder's process paused (GC, a suspended VM) for longer than
 * the margin exactly between a check and its request, and a request that the network or a proxy
 * holds past its timeout and Vault applies after the client gave up (the client then reports the
 * write as failed, not as done).
 *
 * <p>A fenced write that throws {@link LockLostException} changed nothing: the check precedes the
 * first POST, and another attempt follows only one that changed nothing (a refused check-and-set,
 * a 403). Once the data is written, the change marker's bump and the removal of keys a new set
 * replaced are not fenced: they are right whoever holds the lock. A guard that is not a lock of a
 * {@code VaultStorage} is checked with {@link Lock#ensureHeld()} before each POST, with the usual
 * 30 s timeout.
 *
 * <h2>Closing</h2>
 * {@link #close()} releases the locks still held and revokes an AppRole token. A store is not
 * opened again: after {@code close()}, every method throws an {@link IOException} saying the store
 * is closed.
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
        ensureOpen();
        client.ensureLoggedIn();
        String lookup = VaultClient.LOOKUP_SELF;
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
        ensureOpen();
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
        store(key, value, VaultClient.Fence.NONE);
    }

    private void store(String key, byte[] value, VaultClient.Fence fence) throws IOException {
        Storage.checkKey(key);
        requireNonNull(value, "value");
        ensureOpen();
        String parent = parentOf(key);
        if (parent == null || !updateSetFile(parent, nameOf(key), value, fence)) {
            write(key, SecretLayout.value(value), "store " + key, fence);
        }
        changed();
    }

    /**
     * Replaces the set under {@code prefix} with {@code values} in one write: readers see the old
     * set or the new one. Values stored earlier as keys of their own under {@code prefix/} are
     * replaced by tombstones afterwards; an empty {@code values} replaces the set by a tombstone.
     */
    @Override
    public void storeSet(String prefix, Map<String, byte[]> values) throws IOException {
        storeSet(prefix, values, VaultClient.Fence.NONE);
    }

    private void storeSet(String prefix, Map<String, byte[]> values, VaultClient.Fence fence) throws IOException {
        Storage.checkKey(prefix);
        Map<String, byte[]> files = new TreeMap<>();
        for (Map.Entry<String, byte[]> entry : values.entrySet()) {
            if (Storage.checkKey(entry.getKey()).contains("/")) {
                throw new IllegalArgumentException("A set's names are single segments: " + entry.getKey());
            }
            files.put(entry.getKey(), requireNonNull(entry.getValue(), "value of " + entry.getKey()));
        }
        ensureOpen();
        if (files.isEmpty()) {
            clearSet(prefix, fence);
        } else {
            write(prefix, SecretLayout.set(files), "store the set " + prefix, fence);
            removeShadowedKeys(prefix);
        }
        changed();
    }

    /** {@link #store(String, byte[])} fenced by {@code guard}: see "Fenced writes" above. */
    @Override
    public void store(String key, byte[] value, Lock guard) throws IOException {
        Storage.checkKey(key);
        ensureOpen();
        guard.ensureHeld();
        store(key, value, fence(guard));
    }

    /** {@link #storeSet(String, Map)} fenced by {@code guard}: see "Fenced writes" above. */
    @Override
    public void storeSet(String prefix, Map<String, byte[]> values, Lock guard) throws IOException {
        Storage.checkKey(prefix);
        ensureOpen();
        guard.ensureHeld();
        storeSet(prefix, values, fence(guard));
    }

    /** What runs before each POST of a write {@code guard} fences. */
    private static VaultClient.Fence fence(Lock guard) {
        requireNonNull(guard, "guard");
        if (guard instanceof VaultLock lock) {
            return lock.fence();
        }
        return () -> {
            guard.ensureHeld();
            return VaultClient.REQUEST_TIMEOUT;
        };
    }

    @Override
    public boolean delete(String key) throws IOException {
        Storage.checkKey(key);
        ensureOpen();
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
        ensureOpen();
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
    /**
     * Asks Vault whether the token may create {@code key} ({@code sys/capabilities-self}, which
     * Vault's and OpenBao's default policy allows): false when its policies give {@code update}
     * but not {@code create} there, as {@code autocert-renew} does for {@code renewal/}. True when
     * Vault cannot be asked (a token without the default policy): the write then says.
     */
    @Override
    public boolean mayCreate(String key) throws IOException {
        ensureOpen();
        String api = location.dataPath(Storage.checkKey(key));
        String path = api.substring("/v1/".length());
        VaultClient.Response answer;
        try {
            answer = client.post("/v1/sys/capabilities-self", Map.of("paths", List.of(path)), "update");
        } catch (IOException e) {
            LOG.debug("Cannot read the token's capabilities on {}: {}", path, e.getMessage());
            return true;
        }
        // Vault answers with the capabilities under the path (and "capabilities"), in "data" and at the top.
        Map<String, Object> found = answer.data().isEmpty() ? answer.body() : answer.data();
        Object listed = answer.status() == 200 ? found.getOrDefault(path, found.get("capabilities")) : null;
        if (!(listed instanceof List<?> capabilities)) {
            LOG.debug("No capabilities for {} in Vault's answer (HTTP {})", path, answer.status());
            return true;
        }
        return capabilities.contains("create") || capabilities.contains("root");
    }

    @Override
    public Optional<String> changeMarker() throws IOException {
        ensureOpen();
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
        ensureOpen();
        return VaultLock.tryLock(this, name, lease);
    }

    /**
     * Releases the locks still held, stops renewing the token and revokes an AppRole token.
     * Closing twice does nothing; any other call after it throws an {@link IOException}.
     */
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

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException(this + ": the store is closed");
        }
    }

    /** {@return the HTTP client}, for tests */
    VaultClient client() {
        return client;
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
        return writeIfVersion(path, data, expected, VaultClient.Fence.NONE);
    }

    /** {@link #writeIfVersion(String, Map, long)}, with {@code fence} run before the POST. */
    OptionalLong writeIfVersion(String path, Map<String, Object> data, long expected, VaultClient.Fence fence) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("data", data);
        body.put("options", Map.of("cas", expected));
        String api = location.dataPath(path);
        VaultClient.Response answer = client.post(api, body, expected == 0 ? "create" : "update", fence);
        if (answer.status() == 400 && answer.errors().contains("check-and-set")) {
            return OptionalLong.empty();
        }
        if (answer.status() != 200) {
            throw client.failure("write " + path, "POST", api, answer);
        }
        Object version = answer.data().get("version");
        return OptionalLong.of(version instanceof Number n ? n.longValue() : expected + 1);
    }

    private void write(String path, Map<String, Object> data, String what, VaultClient.Fence fence) throws IOException {
        String api = location.dataPath(path);
        VaultClient.Response answer = client.post(api, Map.of("data", data), "create\" or \"update", fence);
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
        write(MARKER, Map.of("last-writer", instance), "record the change in " + MARKER, VaultClient.Fence.NONE);
    }

    // ---------------------------------------------------------------- sets

    /** Stores {@code file} in the set at {@code set} when there is one; {@return whether there was} */
    private boolean updateSetFile(String set, String file, byte[] value, VaultClient.Fence fence) throws IOException {
        for (int attempt = 0; attempt < SET_UPDATE_ATTEMPTS; attempt++) {
            Optional<Read> read = read(set);
            if (read.isEmpty() || !(read.get().content() instanceof SecretLayout.SetOfFiles files)) {
                return false;
            }
            Map<String, byte[]> updated = new TreeMap<>(files.files());
            updated.put(file, value);
            if (writeIfVersion(set, SecretLayout.set(updated), read.get().version(), fence).isPresent()) {
                return true;
            }
        }
        throw new IOException("Vault at " + client.address() + ": the set " + set + " kept changing; " + file + " was not stored");
    }

    /**
     * Removes {@code file} from the set at {@code set}, by check-and-set; the set's last file
     * leaves a tombstone, never a delete, which could destroy a set stored meanwhile.
     * {@return whether it was there}
     */
    private boolean removeSetFile(String set, String file) throws IOException {
        for (int attempt = 0; attempt < SET_UPDATE_ATTEMPTS; attempt++) {
            Optional<Read> read = read(set);
            if (read.isEmpty() || !(read.get().content() instanceof SecretLayout.SetOfFiles files)
                    || !files.files().containsKey(file)) {
                return false;
            }
            Map<String, byte[]> remaining = new TreeMap<>(files.files());
            remaining.remove(file);
            Map<String, Object> data = remaining.isEmpty() ? SecretLayout.tombstone() : SecretLayout.set(remaining);
            if (writeIfVersion(set, data, read.get().version()).isPresent()) {
                return true;
            }
        }
        throw new IOException("Vault at " + client.address() + ": the set " + set + " kept changing; " + file + " was not deleted");
    }

    /**
     * Replaces the set at {@code prefix}, if there is one, by a tombstone, by check-and-set on the
     * version read. When that is refused, another writer changed the secret after the read: its
     * write counts as later than this empty set, and stays.
     */
    private void clearSet(String prefix, VaultClient.Fence fence) throws IOException {
        Optional<Read> read = read(prefix);
        if (read.isPresent() && read.get().content() instanceof SecretLayout.SetOfFiles) {
            writeIfVersion(prefix, SecretLayout.tombstone(), read.get().version(), fence);
        }
    }

    /**
     * Replaces values stored as keys of their own directly under {@code set/} by tombstones: the
     * set replaced them. Each by check-and-set on the version read, read again when refused,
     * since a store that raced the set's write may have written such a key from an older read.
     */
    private void removeShadowedKeys(String set) throws IOException {
        String api = location.metadataPath(set + "/") + "?list=true";
        VaultClient.Response answer = client.get(api, "list");
        if (answer.status() != 200) {
            return; // 404: none, the usual case
        }
        Object keys = answer.data().get("keys");
        for (Object entry : keys instanceof List<?> l ? l : List.of()) {
            String name = String.valueOf(entry);
            if (name.endsWith("/")) {
                continue;
            }
            String key = set + "/" + name;
            boolean done = false;
            for (int attempt = 0; attempt < SET_UPDATE_ATTEMPTS && !done; attempt++) {
                Optional<Read> read = read(key);
                done = read.isEmpty() || !(read.get().content() instanceof SecretLayout.Value)
                        || writeIfVersion(key, SecretLayout.tombstone(), read.get().version()).isPresent();
            }
            if (!done) {
                LOG.warn("{}: {} kept changing; it still shadows the file {} of the set {}", this, key, name, set);
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
