package dev.autocert.store.vault;

import dev.autocert.core.Storage;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lock in Vault: the secret {@code PATH/~autocert/locks/NAME}, whose fields are {@code state}
 * ({@code held} or {@code released}), {@code owner} (a random id per acquisition),
 * {@code lease-ms} and {@code holder} (process id and host, for people). Every change is a KV
 * check-and-set write on the version last seen, so of two writers racing, one wins.
 *
 * <ul>
 * <li><b>Take</b>: create the secret (check-and-set 0), or write {@code held} over a
 *     {@code released} version.
 * <li><b>Extend</b>: the holder writes the same fields again every third of the lease, each on
 *     the version its last write made; a refused write means the lock was taken over, and it is
 *     lost.
 * <li><b>Take over</b>: a contender that finds the lock held remembers its version and when it
 *     first saw it, on its own monotonic clock ({@link System#nanoTime()}, across
 *     {@code tryLock} calls); once the same version has been there for a whole lease (the
 *     holder's {@code lease-ms}) it writes {@code held} over that version. Clocks of different
 *     hosts are never compared: only the elapsed time each measures itself.
 * <li><b>Release</b>: write {@code released} over the holder's version, never a delete, which
 *     could remove a lock a new holder took after a takeover.
 * </ul>
 *
 * {@link #ensureHeld()} fails when the lock was released or an extension was refused. When the
 * last confirmed extension (timed from before its request was sent) is half the lease old or older,
 * it first extends at once, and fails if that is refused or fails. {@link #fence()} is that check,
 * run by {@link VaultStorage} immediately before each POST of a fenced write, with a request timeout
 * of a quarter of the lease ({@link #requestTimeout(Duration)}): the class comment of
 * {@link VaultStorage} gives the whole safety argument. The lock's own writes (take, extend) wait
 * a quarter of the lease at most too, so an extension in progress holds up {@code ensureHeld()} no
 * longer than that; an extension that timed out here but reached Vault all the same is recognised
 * by its {@code owner} and adopted, rather than mistaken for a takeover.
 */
final class VaultLock implements Storage.Lock {

    private static final Logger LOG = LoggerFactory.getLogger(VaultLock.class);
    static final String HELD = "held";
    static final String RELEASED = "released";

    /** A version of a lock held by another, and when this process first saw it, by {@link System#nanoTime()}. */
    record Sighting(long version, long sinceNanos) {
    }

    private final VaultStorage storage;
    private final String name;
    private final String path;
    private final String owner;
    private final Duration lease;
    /** How long each request for this lock, and each POST of a write it fences, waits: {@link #requestTimeout(Duration)}. */
    private final Duration requestTimeout;
    private long version;
    private long confirmedNanos;
    private boolean released;
    private String lostBecause;
    private ScheduledFuture<?> keeper;

    private VaultLock(VaultStorage storage, String name, Duration lease, String owner, long version, long confirmedNanos) {
        this.storage = storage;
        this.name = name;
        this.path = VaultStorage.LOCKS + name;
        this.owner = owner;
        this.lease = lease;
        this.requestTimeout = requestTimeout(lease);
        this.version = version;
        this.confirmedNanos = confirmedNanos;
    }

    static Optional<Storage.Lock> tryLock(VaultStorage storage, String name, Duration lease) throws IOException {
        String path = VaultStorage.LOCKS + name;
        String owner = UUID.randomUUID().toString();
        Map<String, Object> held = fields(HELD, owner, lease);
        Optional<VaultStorage.Read> current = storage.read(path);
        long expected;
        if (current.isEmpty()) {
            expected = 0;
        } else if (RELEASED.equals(current.get().data().get("state"))) {
            expected = current.get().version();
        } else if (leaseRanOut(storage, name, current.get(), lease)) {
            expected = current.get().version();
        } else {
            return Optional.empty();
        }
        Duration timeout = requestTimeout(lease);
        long started = System.nanoTime();
        OptionalLong written = storage.writeIfVersion(path, held, expected, () -> timeout);
        if (written.isEmpty()) {
            return Optional.empty(); // another contender was faster
        }
        storage.sightings().remove(name);
        if (current.isPresent() && !RELEASED.equals(current.get().data().get("state"))) {
            LOG.info("Took over lock {} in {}: its holder ({}) did not extend it for a whole lease", name, storage,
                    current.get().data().get("holder"));
        }
        VaultLock lock = new VaultLock(storage, name, lease, owner, written.getAsLong(), started);
        lock.start();
        return Optional.of(lock);
    }

    /** Whether the version in {@code current} has not changed for a whole lease, as this process saw it. */
    private static boolean leaseRanOut(VaultStorage storage, String name, VaultStorage.Read current, Duration fallback) {
        long leaseNanos;
        try {
            leaseNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(String.valueOf(current.data().get("lease-ms"))));
        } catch (NumberFormatException e) {
            leaseNanos = fallback.toNanos();
        }
        long now = System.nanoTime();
        Sighting seen = storage.sightings().compute(name,
                (n, previous) -> previous != null && previous.version() == current.version() ? previous : new Sighting(current.version(), now));
        return now - seen.sinceNanos() >= leaseNanos;
    }

    /**
     * {@return how long a request for a lock of {@code lease}, or a POST of a write it fences, may
     * wait for its answer}: a quarter of the lease, at most {@link VaultClient#REQUEST_TIMEOUT}.
     */
    static Duration requestTimeout(Duration lease) {
        Duration quarter = Duration.ofNanos(Math.max(TimeUnit.MILLISECONDS.toNanos(1), lease.toNanos() / 4));
        return quarter.compareTo(VaultClient.REQUEST_TIMEOUT) < 0 ? quarter : VaultClient.REQUEST_TIMEOUT;
    }

    /**
     * The fence of a write guarded by this lock, run immediately before each of its POSTs:
     * {@link #ensureHeld()} (so the last confirmed extension is less than half a lease old, or the
     * write is refused with {@link dev.autocert.core.LockLostException}), then a timeout of a
     * quarter of the lease.
     */
    VaultClient.Fence fence() {
        return () -> {
            ensureHeld();
            return requestTimeout;
        };
    }

    private static Map<String, Object> fields(String state, String owner, Duration lease) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("state", state);
        fields.put("owner", owner);
        fields.put("lease-ms", Long.toString(lease.toMillis()));
        fields.put("holder", ProcessHandle.current().pid() + "@" + Hosts.NAME);
        return fields;
    }

    private synchronized void start() {
        storage.held(this, true);
        long period = Math.max(1, lease.toMillis() / 3);
        keeper = storage.scheduler().scheduleAtFixedRate(this::extendQuietly, period, period, TimeUnit.MILLISECONDS);
    }

    private void extendQuietly() {
        try {
            extend();
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot extend the lease of lock {} in {}: {}", name, storage, e.getMessage());
        }
    }

    /** Writes the lock again on its version; {@return whether it is still held} */
    private synchronized boolean extend() throws IOException {
        if (released || lostBecause != null) {
            return false;
        }
        Map<String, Object> fields = fields(HELD, owner, lease);
        VaultClient.Fence timeout = () -> requestTimeout;
        long started = System.nanoTime();
        OptionalLong written = storage.writeIfVersion(path, fields, version, timeout);
        if (written.isEmpty()) {
            // Refused: taken over, or an earlier extension of ours timed out here yet reached Vault. Only this
            // acquisition writes its owner, and a takeover writes another, so our owner on a newer version is ours.
            Optional<VaultStorage.Read> current = storage.read(path);
            if (current.isPresent() && current.get().version() > version && owner.equals(current.get().data().get("owner"))
                    && HELD.equals(current.get().data().get("state"))) {
                LOG.debug("Lock {} in {}: an extension that timed out reached Vault; extending from its version", name, storage);
                version = current.get().version();
                started = System.nanoTime();
                written = storage.writeIfVersion(path, fields, version, timeout);
            }
        }
        if (written.isEmpty()) {
            lostBecause = "was taken over by another holder: its lease ran out before it was extended";
            LOG.warn("Lock {} in {} {}", name, storage, lostBecause);
            stop();
            return false;
        }
        version = written.getAsLong();
        confirmedNanos = started;
        return true;
    }

    @Override
    public synchronized void ensureHeld() throws IOException {
        if (released) {
            throw storage.lockLost(name, "was released");
        }
        long half = lease.toNanos() / 2;
        if (lostBecause == null && System.nanoTime() - confirmedNanos >= half) {
            // Extensions stalled (a pause, or Vault unreachable): only a successful one now proves it is still ours.
            try {
                extend();
            } catch (IOException e) {
                throw storage.lockLost(name, "could not be extended for half its lease (" + e.getMessage() + ")");
            }
        }
        if (lostBecause != null) {
            throw storage.lockLost(name, lostBecause);
        }
        long age = System.nanoTime() - confirmedNanos;
        if (age >= half) {
            throw storage.lockLost(name, "was last confirmed " + TimeUnit.NANOSECONDS.toMillis(age) + " ms ago, half its lease ("
                    + lease.toMillis() + " ms) or more");
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (released) {
            return;
        }
        released = true;
        stop();
        if (lostBecause != null) {
            return;
        }
        OptionalLong written = storage.writeIfVersion(path, fields(RELEASED, owner, lease), version);
        if (written.isEmpty()) {
            LOG.warn("Lock {} in {} was taken over by another holder before it was released: its lease ran out", name, storage);
        }
    }

    private void stop() {
        if (keeper != null) {
            keeper.cancel(false);
        }
        storage.held(this, false);
    }

    @Override
    public String toString() {
        return "VaultLock[" + name + " in " + storage + "]";
    }

    /** This host's name, for the {@code holder} field; looked up once. */
    private static final class Hosts {
        static final String NAME = lookUp();

        private static String lookUp() {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                return "unknown";
            }
        }
    }
}
