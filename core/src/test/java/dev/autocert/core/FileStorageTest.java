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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStorageTest {

    @TempDir
    Path dir;

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
    void aDeadHoldersLockFreesItselfWhenTheLeaseRunsOut() throws IOException {
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        FileStorage dead = new FileStorage(dir, Clock.fixed(start, ZoneOffset.UTC));
        // The holder "dies": it never closes the lock, and its lease keeper is stopped by closing
        // nothing; a fixed clock means it writes the same expiry again at most.
        Optional<Storage.Lock> orphan = dead.tryLock("certificate-example.com", Duration.ofMinutes(2));
        assertTrue(orphan.isPresent());
        FileStorage before = new FileStorage(dir, Clock.fixed(start.plusSeconds(60), ZoneOffset.UTC));
        assertTrue(before.tryLock("certificate-example.com", Duration.ofMinutes(2)).isEmpty());
        FileStorage after = new FileStorage(dir, Clock.fixed(start.plusSeconds(121), ZoneOffset.UTC));
        Optional<Storage.Lock> taken = after.tryLock("certificate-example.com", Duration.ofMinutes(2));
        assertTrue(taken.isPresent());
        orphan.get().close(); // the old holder notices it lost the lock and leaves the new one alone
        assertTrue(Files.exists(dir.resolve("locks/certificate-example.com.lock")));
        taken.get().close();
        assertFalse(Files.exists(dir.resolve("locks/certificate-example.com.lock")));
    }

    @Test
    void extendsTheLeaseWhileHeld() throws Exception {
        FileStorage storage = new FileStorage(dir);
        try (Storage.Lock lock = storage.tryLock("busy", Duration.ofMillis(600)).orElseThrow()) {
            Thread.sleep(1500);
            // Past the first lease, but extended by the keeper: still held.
            assertTrue(new FileStorage(dir).tryLock("busy", Duration.ofMillis(600)).isEmpty());
        }
    }
}
