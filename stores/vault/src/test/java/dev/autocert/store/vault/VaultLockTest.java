package dev.autocert.store.vault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.LockLostException;
import dev.autocert.core.Storage;
import dev.autocert.testkit.OpenBaoServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link VaultLock}: leases kept by extension, taken over only after a whole lease without one, and
 * fenced writes. Built to pass on a loaded machine: every store has a scheduler of its own, the
 * lower bounds (safety: never taken over early) are strict, the upper bounds (liveness) generous.
 */
class VaultLockTest {

    @RegisterExtension
    static final OpenBaoServer BAO = OpenBaoServer.builder().build();

    /** Short enough to wait for a takeover; a holder's extensions (every third) may be late by two thirds of it. */
    private static final Duration LEASE = Duration.ofSeconds(4);
    /** For tests that need no takeover: never runs out while they run. */
    private static final Duration LONG_LEASE = Duration.ofMinutes(2);
    /** How long after the lease a takeover may come, polling every 100 ms on a busy machine: liveness, not safety. */
    private static final long TAKEOVER_SLACK_MILLIS = 20_000;

    private final String name = "lock-" + UUID.randomUUID();
    private final List<ScheduledExecutorService> schedulers = new ArrayList<>();

    @AfterEach
    void stopSchedulers() {
        schedulers.forEach(ScheduledExecutorService::shutdownNow);
    }

    /** A store with a scheduler of its own (not the shared one), stopped after the test. */
    private VaultStorage.Builder storage() {
        return storage(scheduler("lease"));
    }

    private VaultStorage.Builder storage(ScheduledExecutorService scheduler) {
        return VaultStorage.builder("vault:" + BAO.address() + "/secret/autocert").token(BAO.rootToken()).scheduler(scheduler);
    }

    private ScheduledExecutorService scheduler(String what) {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "test-" + what);
            thread.setDaemon(true);
            return thread;
        });
        schedulers.add(scheduler);
        return scheduler;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Polls {@code tryLock} until it succeeds; {@return the lock and how long it took} */
    private static Storage.Lock pollUntilTaken(Storage storage, String name, long[] millis) throws Exception {
        long start = System.nanoTime();
        while (true) {
            Optional<Storage.Lock> lock = storage.tryLock(name, LEASE);
            if (lock.isPresent()) {
                millis[0] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                return lock.get();
            }
            assertTrue(System.nanoTime() - start < LEASE.toNanos() + TimeUnit.MILLISECONDS.toNanos(TAKEOVER_SLACK_MILLIS),
                    "never taken over");
            Thread.sleep(100);
        }
    }

    private static void assertTakenOverInTime(long waited) {
        assertTrue(waited >= LEASE.toMillis(), "taken over only after a whole lease: " + waited + " ms");
        assertTrue(waited < LEASE.toMillis() + TAKEOVER_SLACK_MILLIS, "and some time after it: " + waited + " ms");
    }

    @Test
    void aHolderThatKeepsExtendingKeepsItsLockPastTheLease() throws Exception {
        try (VaultStorage holder = storage().build(); VaultStorage contender = storage().build()) {
            Storage.Lock lock = holder.tryLock(name, LEASE).orElseThrow();
            long end = System.nanoTime() + LEASE.multipliedBy(2).toNanos();
            while (System.nanoTime() < end) {
                assertEquals(Optional.empty(), contender.tryLock(name, LEASE));
                Thread.sleep(200);
            }
            lock.ensureHeld();
            lock.close();
            assertTrue(contender.tryLock(name, LEASE).isPresent(), "released, it is free at once");
        }
    }

    @Test
    void aStalledHolderLosesItsLockAfterALeaseAndItsFencedWritesChangeNothing() throws Exception {
        ScheduledExecutorService stalled = scheduler("stalled-holder");
        String key = "fenced/" + name;
        try (VaultStorage holder = storage(stalled).build(); VaultStorage next = storage().build()) {
            Storage.Lock old = holder.tryLock(name, LEASE).orElseThrow();
            holder.store(key, bytes("first holder"), old);
            stalled.shutdownNow(); // a process paused (GC, suspended VM): it extends no more

            long[] waited = new long[1];
            Storage.Lock taken = pollUntilTaken(next, name, waited); // next first sees the lock after the stall began
            assertTakenOverInTime(waited[0]);
            next.store(key, bytes("second holder"), taken);

            assertThrows(LockLostException.class, () -> holder.store(key, bytes("stale"), old));
            assertThrows(LockLostException.class, () -> holder.storeSet("live/" + name, Map.of("cert.pem", bytes("x")), old));
            assertArrayEquals(bytes("second holder"), next.load(key).orElseThrow(), "the stale holder changed nothing");
            assertEquals(Optional.empty(), next.load("live/" + name + "/cert.pem"));
            old.close(); // its release must not free the new holder's lock
            assertEquals(Optional.empty(), holder.tryLock(name, LEASE));
            taken.ensureHeld();
            taken.close();
        }
    }

    @Test
    void aFencedWriteAfterStalledExtensionsExtendsTheLeaseFirst() throws Exception {
        ScheduledExecutorService stalled = scheduler("stalled-holder");
        String key = "fenced/" + name;
        try (VaultStorage holder = storage(stalled).build()) {
            Storage.Lock lock = holder.tryLock(name, LEASE).orElseThrow();
            long before = holder.read(VaultStorage.LOCKS + name).orElseThrow().version();
            stalled.shutdownNow(); // no extensions; nobody else wants the lock
            Thread.sleep(LEASE.toMillis() / 2 + 200);
            holder.store(key, bytes("after half a lease"), lock); // last confirmed half a lease ago: extended, then written
            assertTrue(holder.read(VaultStorage.LOCKS + name).orElseThrow().version() > before, "extended before the write");
            assertArrayEquals(bytes("after half a lease"), holder.load(key).orElseThrow());
            lock.close();
        }
    }

    @Test
    void aFencedWriteChecksItsGuardImmediatelyBeforeEachPost() throws Exception {
        String set = "live/" + name;
        try (VaultStorage storage = storage().build()) {
            storage.storeSet(set, Map.of("cert.pem", bytes("c1")));
            AtomicInteger checks = new AtomicInteger();
            Storage.Lock lostAfterFirstCheck = new Storage.Lock() {
                @Override
                public void ensureHeld() throws LockLostException {
                    if (checks.incrementAndGet() > 1) {
                        throw new LockLostException("lost after the first check");
                    }
                }

                @Override
                public void close() {
                }
            };
            // A file of a set: a GET, then the check-and-set POST, which the second check stops.
            assertThrows(LockLostException.class, () -> storage.store(set + "/cert.pem", bytes("c2"), lostAfterFirstCheck));
            assertEquals(2, checks.get(), "checked at the start and before the POST");
            assertArrayEquals(bytes("c1"), storage.load(set + "/cert.pem").orElseThrow(), "nothing was written");

            AtomicInteger held = new AtomicInteger();
            Storage.Lock counting = new Storage.Lock() {
                @Override
                public void ensureHeld() {
                    held.incrementAndGet();
                }

                @Override
                public void close() {
                }
            };
            storage.storeSet(set, Map.of("cert.pem", bytes("c3"), "privkey.pem", bytes("k3")), counting);
            assertEquals(2, held.get(), "checked at the start and before the set's one POST");
            assertArrayEquals(bytes("k3"), storage.load(set + "/privkey.pem").orElseThrow());
        }
    }

    @Test
    void fencedRequestsWaitAQuarterOfTheLeaseAtMost() {
        assertEquals(Duration.ofSeconds(15), VaultLock.requestTimeout(Duration.ofMinutes(1)), "the engine's lease");
        assertEquals(Duration.ofMillis(1000), VaultLock.requestTimeout(LEASE));
        assertEquals(VaultClient.REQUEST_TIMEOUT, VaultLock.requestTimeout(Duration.ofHours(1)), "and never more than usual");
    }

    @Test
    void aLockWithALongLeaseFencesWritesUntilReleased() throws Exception {
        try (VaultStorage holder = storage().build(); VaultStorage contender = storage().build()) {
            Storage.Lock lock = holder.tryLock(name, LONG_LEASE).orElseThrow();
            assertEquals(Optional.empty(), contender.tryLock(name, LONG_LEASE));
            holder.store("fenced/" + name, bytes("v"), lock);
            lock.close();
            assertThrows(LockLostException.class, lock::ensureHeld);
            assertTrue(contender.tryLock(name, LONG_LEASE).isPresent());
        }
    }

    @Test
    void aKilledHolderProcessLosesItsLockAfterALease() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                LockHolderMain.class.getName(), "vault:" + BAO.address() + "/secret/autocert", name, Long.toString(LEASE.toMillis()))
                .redirectErrorStream(true);
        builder.environment().put("VAULT_TOKEN", BAO.rootToken());
        Process holder = builder.start();
        try (VaultStorage watcher = storage().build(); VaultStorage next = storage().build()) {
            BufferedReader output = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            List<String> lines = new ArrayList<>();
            for (String line = output.readLine(); !"LOCKED".equals(line); line = output.readLine()) {
                assertTrue(line != null, "the holder process ended: " + lines);
                lines.add(line);
            }
            Thread.sleep(LEASE.toMillis()); // it extends while it lives
            assertEquals(Optional.empty(), watcher.tryLock(name, LEASE));
            holder.destroyForcibly().waitFor();

            // A contender that first sees the lock after the kill: the holder's last extension was before it.
            long[] waited = new long[1];
            Storage.Lock taken = pollUntilTaken(next, name, waited);
            assertTakenOverInTime(waited[0]);
            taken.close();
        } finally {
            holder.destroyForcibly();
        }
    }
}
