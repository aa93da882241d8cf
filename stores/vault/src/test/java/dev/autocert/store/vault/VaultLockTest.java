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
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link VaultLock}: leases kept by extension, taken over only after a whole lease without one, and fenced writes. */
class VaultLockTest {

    @RegisterExtension
    static final OpenBaoServer BAO = OpenBaoServer.builder().build();

    private static final Duration LEASE = Duration.ofSeconds(3);
    private final String name = "lock-" + UUID.randomUUID();

    private static VaultStorage.Builder storage() {
        return VaultStorage.builder("vault:" + BAO.address() + "/secret/autocert").token(BAO.rootToken());
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
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15), "never taken over");
            Thread.sleep(100);
        }
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
        ScheduledExecutorService stalled = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "stalled-holder");
            thread.setDaemon(true);
            return thread;
        });
        String key = "fenced/" + name;
        try (VaultStorage holder = storage().scheduler(stalled).build(); VaultStorage next = storage().build()) {
            Storage.Lock old = holder.tryLock(name, LEASE).orElseThrow();
            holder.store(key, bytes("first holder"), old);
            stalled.shutdownNow(); // a process paused (GC, suspended VM): it extends no more

            long[] waited = new long[1];
            Storage.Lock taken = pollUntilTaken(next, name, waited);
            assertTrue(waited[0] >= LEASE.toMillis(), "taken over only after a whole lease: " + waited[0] + " ms");
            assertTrue(waited[0] < LEASE.toMillis() + 2000, "and soon after it: " + waited[0] + " ms");
            next.store(key, bytes("second holder"), taken);

            assertThrows(LockLostException.class, () -> holder.store(key, bytes("stale"), old));
            assertThrows(LockLostException.class, () -> holder.storeSet("live/" + name, java.util.Map.of("cert.pem", bytes("x")), old));
            assertArrayEquals(bytes("second holder"), next.load(key).orElseThrow(), "the stale holder changed nothing");
            assertEquals(Optional.empty(), next.load("live/" + name + "/cert.pem"));
            old.close(); // its release must not free the new holder's lock
            assertEquals(Optional.empty(), holder.tryLock(name, LEASE));
            taken.ensureHeld();
            taken.close();
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
        try (VaultStorage next = storage().build()) {
            BufferedReader output = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            List<String> lines = new java.util.ArrayList<>();
            for (String line = output.readLine(); !"LOCKED".equals(line); line = output.readLine()) {
                assertTrue(line != null, "the holder process ended: " + lines);
                lines.add(line);
            }
            Thread.sleep(LEASE.toMillis()); // it extends while it lives
            assertEquals(Optional.empty(), next.tryLock(name, LEASE));
            holder.destroyForcibly().waitFor();

            long[] waited = new long[1];
            Storage.Lock taken = pollUntilTaken(next, name, waited);
            assertTrue(waited[0] >= LEASE.toMillis(), "taken over only after a whole lease: " + waited[0] + " ms");
            assertTrue(waited[0] < LEASE.toMillis() + 2000, "and soon after it: " + waited[0] + " ms");
            taken.close();
        } finally {
            holder.destroyForcibly();
        }
    }
}
