package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link Storage}'s specification as tests: every store extends this and supplies two handles on
 * the same data, as two processes of a cluster would have. Each test works under a fresh random
 * prefix and lock names, so one store per test class serves them all.
 */
public abstract class StorageContract {

    /** A store, opened; the same instance may be returned to every test. */
    protected abstract Storage storage() throws Exception;

    /** A second store on the same data (another process's view), opened. */
    protected abstract Storage otherStorage() throws Exception;

    private final String root = "t" + UUID.randomUUID().toString().replace("-", "");

    private String key(String rest) {
        return root + "/" + rest;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void storesLoadsOverwritesAndDeletes() throws Exception {
        Storage storage = storage();
        assertEquals(Optional.empty(), storage.load(key("a.pem")));
        byte[] binary = new byte[256];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        storage.store(key("a.pem"), binary);
        assertArrayEquals(binary, storage.load(key("a.pem")).orElseThrow());
        assertArrayEquals(binary, otherStorage().load(key("a.pem")).orElseThrow(), "another process reads what was stored");
        storage.store(key("a.pem"), bytes("second"));
        assertArrayEquals(bytes("second"), otherStorage().load(key("a.pem")).orElseThrow());
        storage.store(key("empty"), new byte[0]);
        assertArrayEquals(new byte[0], storage.load(key("empty")).orElseThrow(), "an empty value is a value");
        assertTrue(storage.delete(key("a.pem")));
        assertFalse(storage.delete(key("a.pem")));
        assertEquals(Optional.empty(), otherStorage().load(key("a.pem")));
    }

    @Test
    void listsEveryKeyUnderAPrefixSorted() throws Exception {
        Storage storage = storage();
        assertEquals(List.of(), storage.list(key("none")));
        storage.store(key("d/b.pem"), bytes("1"));
        storage.store(key("d/a/x@y+z_1-2.conf"), bytes("2"));
        storage.store(key("d/a/c.pem"), bytes("3"));
        storage.store(key("dd/e.pem"), bytes("4")); // shares the prefix's characters, not its segment
        assertEquals(List.of(key("d/a/c.pem"), key("d/a/x@y+z_1-2.conf"), key("d/b.pem")), storage.list(key("d")));
        assertEquals(List.of(key("d/a/c.pem"), key("d/a/x@y+z_1-2.conf")), otherStorage().list(key("d/a")));
        storage.delete(key("d/a/c.pem"));
        assertEquals(List.of(key("d/a/x@y+z_1-2.conf"), key("d/b.pem")), storage.list(key("d")));
    }

    @Test
    void aSetIsReplacedWhole() throws Exception {
        Storage storage = storage();
        Map<String, byte[]> first = new LinkedHashMap<>();
        first.put("cert.pem", bytes("cert 1"));
        first.put("privkey.pem", bytes("key 1"));
        first.put("chain.pem", bytes("chain 1"));
        storage.storeSet(key("live/example.com"), first);
        assertArrayEquals(bytes("key 1"), otherStorage().load(key("live/example.com/privkey.pem")).orElseThrow());
        assertEquals(List.of(key("live/example.com/cert.pem"), key("live/example.com/chain.pem"), key("live/example.com/privkey.pem")),
                storage.list(key("live")));
        Map<String, byte[]> second = new LinkedHashMap<>();
        second.put("cert.pem", bytes("cert 2"));
        second.put("privkey.pem", bytes("key 2"));
        storage.storeSet(key("live/example.com"), second);
        assertArrayEquals(bytes("cert 2"), storage.load(key("live/example.com/cert.pem")).orElseThrow());
        assertArrayEquals(bytes("key 2"), otherStorage().load(key("live/example.com/privkey.pem")).orElseThrow());
        assertEquals(Optional.empty(), storage.load(key("live/example.com/chain.pem")), "a name not in the new set is gone");
        for (String name : List.of("cert.pem", "privkey.pem")) {
            storage.delete(key("live/example.com/" + name));
        }
        assertEquals(List.of(), storage.list(key("live")));
    }

    @Test
    void refusesMalformedKeys() throws Exception {
        Storage storage = storage();
        for (String bad : List.of("../etc/passwd", "a/../../b", "/abs", "a//b", "a/./b", "sp ace", "", "a/")) {
            assertThrows(IllegalArgumentException.class, () -> storage.store(bad, new byte[0]), bad);
            assertThrows(IllegalArgumentException.class, () -> storage.load(bad), bad);
        }
    }

    @Test
    void concurrentWritersLeaveOneWholeValue() throws Exception {
        Storage storage = storage();
        String key = key("race");
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] value = new byte[32 * 1024];
            java.util.Arrays.fill(value, (byte) ('a' + i));
            values.add(value);
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int round = 0; round < 5; round++) {
                for (byte[] value : values) {
                    Storage target = writes.size() % 2 == 0 ? storage : otherStorage();
                    writes.add(pool.submit(() -> {
                        target.store(key, value);
                        return null;
                    }));
                }
            }
            for (Future<?> write : writes) {
                write.get();
            }
        } finally {
            pool.shutdownNow();
        }
        byte[] stored = storage.load(key).orElseThrow();
        assertTrue(values.stream().anyMatch(v -> java.util.Arrays.equals(v, stored)), "one writer's value, whole");
    }

    @Test
    void aLockIsHeldByOneHolderAtATime() throws Exception {
        String name = root + "-lock";
        Optional<Storage.Lock> first = storage().tryLock(name, Duration.ofMinutes(1));
        assertTrue(first.isPresent());
        assertEquals(Optional.empty(), otherStorage().tryLock(name, Duration.ofMinutes(1)), "another process cannot take it");
        assertEquals(Optional.empty(), storage().tryLock(name, Duration.ofMinutes(1)), "nor another thread of this one");
        first.get().ensureHeld();
        first.get().close();
        first.get().close(); // twice does nothing
        assertThrows(LockLostException.class, first.get()::ensureHeld, "a released lock is not held");
        Optional<Storage.Lock> second = otherStorage().tryLock(name, Duration.ofMinutes(1));
        assertTrue(second.isPresent(), "released, it can be taken");
        second.get().close();
    }

    @Test
    void fencedWritesNeedTheLock() throws Exception {
        String name = root + "-fence";
        Storage storage = storage();
        Storage.Lock lock = storage.tryLock(name, Duration.ofMinutes(1)).orElseThrow();
        storage.store(key("fenced"), bytes("under the lock"), lock);
        storage.storeSet(key("live/fenced.example"), Map.of("cert.pem", bytes("c")), lock);
        lock.close();
        assertThrows(LockLostException.class, () -> storage.store(key("fenced"), bytes("after release"), lock));
        assertThrows(LockLostException.class, () -> storage.storeSet(key("live/fenced.example"), Map.of("cert.pem", bytes("x")), lock));
        assertArrayEquals(bytes("under the lock"), otherStorage().load(key("fenced")).orElseThrow(), "a refused write changed nothing");
        assertArrayEquals(bytes("c"), otherStorage().load(key("live/fenced.example/cert.pem")).orElseThrow());
    }

    @Test
    void theChangeMarkerMovesWhenAnotherProcessWrites() throws Exception {
        Optional<String> before = storage().changeMarker();
        if (before.isEmpty()) {
            assertEquals(Optional.empty(), otherStorage().changeMarker(), "a store keeps a marker or it does not");
            return;
        }
        otherStorage().store(key("marked"), bytes("x"));
        Optional<String> after = storage().changeMarker();
        assertNotEquals(before, after, "a write by another process changes the marker");
        assertEquals(after, storage().changeMarker(), "and nothing else does");
    }

    /** Threads of two handles contend for one lock; a counter proves no two ever hold it together. */
    @Test
    void contendersNeverOverlap() throws Exception {
        String name = root + "-contended";
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger entries = new AtomicInteger();
        long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Storage storage = i % 2 == 0 ? storage() : otherStorage();
                workers.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        Optional<Storage.Lock> lock = storage.tryLock(name, Duration.ofMinutes(1));
                        if (lock.isEmpty()) {
                            Thread.sleep(1);
                            continue;
                        }
                        try (Storage.Lock held = lock.get()) {
                            if (inside.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            entries.incrementAndGet();
                            Thread.sleep(2);
                            inside.decrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, overlaps.get(), "two holders at once");
        assertTrue(entries.get() > 4, "the lock was taken and released repeatedly: " + entries.get());
    }

    /** Stores values a test can list, for subclasses' own tests. */
    protected final String testKey(String rest) {
        return key(rest);
    }
}
