package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStorageTest extends StorageContract {

    @TempDir
    Path dir;

    @Override
    protected Storage storage() {
        return new FileStorage(dir.resolve("shared"));
    }

    @Override
    protected Storage otherStorage() {
        return new FileStorage(dir.resolve("shared"));
    }

    @Test
    void storesLoadsListsAndDeletes() throws IOException {
        FileStorage storage = new FileStorage(dir.resolve("store"));
        assertEquals(Optional.empty(), storage.load("a/b.pem"));
        storage.store("a/b.pem", "one".getBytes(StandardCharsets.UTF_8));
        storage.store("a/c/d.pem", "two".getBytes(StandardCharsets.UTF_8));
        storage.store("a/b.pem", "three".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals("three".getBytes(StandardCharsets.UTF_8), storage.load("a/b.pem").orElseThrow());
        assertEquals(List.of("a/b.pem", "a/c/d.pem"), storage.list("a"));
        assertEquals(List.of(), storage.list("nothing"));
        assertTrue(storage.delete("a/c/d.pem"));
        assertFalse(storage.delete("a/c/d.pem"));
        assertFalse(Files.exists(dir.resolve("store/a/c")), "empty directories are removed");
        assertEquals(List.of("a/b.pem"), storage.list("a"));
    }

    @Test
    void everyChangeMovesTheMarkerWhichAlsoTurnsOverEachMinute() throws IOException {
        MutableClock clock = new MutableClock();
        FileStorage storage = new FileStorage(dir.resolve("store"), clock);
        FileStorage other = new FileStorage(dir.resolve("store"), clock);
        String first = storage.changeMarker().orElseThrow();
        other.storeSet("live/example.com", java.util.Map.of("cert.pem", new byte[] {1}));
        String set = storage.changeMarker().orElseThrow();
        assertFalse(first.equals(set), "a set stored by another handle");
        assertFalse(storage.delete("live/nothing.example.com/cert.pem"));
        assertEquals(set, storage.changeMarker().orElseThrow(), "deleting nothing changes nothing");
        assertTrue(other.delete("live/example.com/cert.pem"));
        String deleted = storage.changeMarker().orElseThrow();
        assertFalse(set.equals(deleted), "a delete");
        storage.load("live/example.com/cert.pem");
        storage.list("live");
        assertEquals(deleted, storage.changeMarker().orElseThrow(), "reads change nothing");
        // A file changed by hand marks nothing: the marker turns over within a minute all the same.
        clock.advance(FileStorage.UNMARKED_CHANGES);
        assertFalse(deleted.equals(storage.changeMarker().orElseThrow()), "turned over a minute later");
        assertTrue(Files.isRegularFile(dir.resolve("store/.changes")), "the marker, a hidden file at the top");
    }

    @Test
    void keepsFilesPrivateToTheOwner() throws IOException {
        FileStorage storage = new FileStorage(dir.resolve("store"));
        storage.store("archive/example.com/privkey1.pem", new byte[] {1});
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("store/archive/example.com/privkey1.pem"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("store/archive/example.com"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("store/archive"))));
    }

    @Test
    void leavesNoTemporaryFilesBehind() throws IOException {
        FileStorage storage = new FileStorage(dir);
        for (int i = 0; i < 20; i++) {
            storage.store("x/value", new byte[i]);
        }
        try (var files = Files.list(dir.resolve("x"))) {
            assertEquals(List.of(dir.resolve("x/value")), files.toList());
        }
    }

    @Test
    void refusesKeysThatEscapeOrAreMalformed() {
        FileStorage storage = new FileStorage(dir);
        for (String bad : List.of("../etc/passwd", "a/../../b", "/abs", "a//b", "a/./b", "sp ace", "")) {
            assertThrows(IllegalArgumentException.class, () -> storage.store(bad, new byte[0]), bad);
        }
    }

    @Test
    void concurrentWritersNeverLeaveAMixedValue() throws Exception {
        FileStorage storage = new FileStorage(dir);
        byte[] a = new byte[64 * 1024];
        byte[] b = new byte[64 * 1024];
        java.util.Arrays.fill(a, (byte) 'a');
        java.util.Arrays.fill(b, (byte) 'b');
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> writers = List.of(
                    pool.submit(() -> { for (int i = 0; i < 100; i++) { storage.store("k", a); } return null; }),
                    pool.submit(() -> { for (int i = 0; i < 100; i++) { storage.store("k", b); } return null; }));
            AtomicInteger reads = new AtomicInteger();
            Future<?> reader = pool.submit(() -> {
                while (!writers.stream().allMatch(Future::isDone)) {
                    Optional<byte[]> value = storage.load("k");
                    if (value.isPresent()) {
                        byte first = value.get()[0];
                        for (byte x : value.get()) {
                            assertEquals(first, x);
                        }
                        reads.incrementAndGet();
                    }
                }
                return null;
            });
            for (Future<?> f : writers) {
                f.get();
            }
            reader.get();
            assertTrue(reads.get() > 0);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aLockIsExclusiveUntilReleased() throws IOException {
        FileStorage one = new FileStorage(dir);
        FileStorage two = new FileStorage(dir);
        Optional<Storage.Lock> held = one.tryLock("certificate-example.com", Duration.ofMinutes(1));
        assertTrue(held.isPresent());
        assertTrue(two.tryLock("certificate-example.com", Duration.ofMinutes(1)).isEmpty());
        assertTrue(two.tryLock("certificate-other.com", Duration.ofMinutes(1)).isPresent());
        held.get().close();
        held.get().close(); // twice is harmless
        Optional<Storage.Lock> again = two.tryLock("certificate-example.com", Duration.ofMinutes(1));
        assertTrue(again.isPresent());
        again.get().close();
    }

    @Test
    void aKilledHoldersLockIsFreeAtOnce() throws Exception {
        Process holder = LockHammer.start(dir, "hold", "certificate-example.com", 60_000);
        try {
            LockHammer.awaitLine(holder, "held");
            assertTrue(new FileStorage(dir).tryLock("certificate-example.com", Duration.ofMinutes(2)).isEmpty(),
                    "held by the other process");
        } finally {
            holder.destroyForcibly().waitFor(); // kill -9: nothing of its own runs
        }
        Optional<Storage.Lock> taken = new FileStorage(dir).tryLock("certificate-example.com", Duration.ofMinutes(2));
        assertTrue(taken.isPresent(), "the system released the dead holder's lock; no lease to wait for");
        taken.get().close(); // read only once released: opening and closing the file would release a held lock
        assertTrue(Files.readString(dir.resolve("locks/certificate-example.com.lock")).contains("pid=" + ProcessHandle.current().pid()),
                "the holder is named in the file for operators");
        assertThrows(IllegalArgumentException.class, () -> new FileStorage(dir).store("locks/certificate-example.com.lock", new byte[0]),
                "the lock files are not keys");
    }

    /** The check: two processes hammering one lock for a bounded time never hold it together. */
    @Test
    void twoProcessesHammeringTheLockNeverHoldItTogether() throws Exception {
        Path inside = dir.resolve("inside");
        long startAt = System.currentTimeMillis() + 3_000; // after both JVMs are up
        Process first = LockHammer.start(dir, "hammer", "contended", 3_000, startAt);
        Process second = LockHammer.start(dir, "hammer", "contended", 3_000, startAt);
        LockHammer.Result a = LockHammer.result(first);
        LockHammer.Result b = LockHammer.result(second);
        assertEquals(0, a.overlaps() + b.overlaps(), "a holder found the other inside: " + a + ", " + b);
        assertTrue(a.entries() > 10 && b.entries() > 10, "both processes took the lock many times: " + a + ", " + b);
        assertTrue(a.busy() > 0 && b.busy() > 0, "each found it held by the other at times, so they did contend: " + a + ", " + b);
        assertFalse(Files.exists(inside));
    }
}
