package dev.autocert.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.LockLostException;
import dev.autocert.core.Storage;
import dev.autocert.testkit.PostgresServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Advisory locks end with their holder's session: a killed connection, a killed process. */
class AdvisoryLockTest {

    @RegisterExtension
    static final PostgresServer PG = PostgresServer.builder().build();

    private static final Duration LEASE = Duration.ofMinutes(1);
    /**
     * How soon the lock of a dead session must be free: generous for a loaded machine, yet well
     * below the lease (which the store does not use) and the ~30 s of the server's keepalives, which
     * are for vanished hosts only.
     */
    private static final Duration AT_ONCE = Duration.ofSeconds(10);

    private static String database;
    private static PostgresStorage node1;
    private static PostgresStorage node2;

    @BeforeAll
    static void openStores() throws Exception {
        database = PG.newDatabase();
        node1 = open();
        node2 = open();
    }

    @AfterAll
    static void closeStores() {
        node1.close();
        node2.close();
    }

    private static PostgresStorage open() throws Exception {
        Properties properties = new Properties();
        properties.setProperty("user", PG.username());
        properties.setProperty("password", PG.password());
        PostgresStorage storage = new PostgresStorage(PG.jdbcUrl(database), properties);
        storage.open();
        return storage;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Tries for up to {@code within}; the server ends a terminated session asynchronously. */
    private static Optional<Storage.Lock> tryLockWithin(PostgresStorage storage, String name, Duration within) throws Exception {
        long end = System.nanoTime() + within.toNanos();
        while (true) {
            Optional<Storage.Lock> lock = storage.tryLock(name, LEASE);
            if (lock.isPresent() || System.nanoTime() - end > 0) {
                return lock;
            }
            Thread.sleep(20);
        }
    }

    @Test
    void aHolderWhoseSessionWasKilledLosesTheLockAndCannotWrite() throws Exception {
        AdvisoryLock lock = (AdvisoryLock) node1.tryLock("killed-session", LEASE).orElseThrow();
        node1.store("fence/cert.pem", bytes("before"), lock);
        assertEquals(Optional.empty(), node2.tryLock("killed-session", LEASE));

        assertEquals("t", PG.execute(database, "SELECT pg_terminate_backend(" + lock.backendPid() + ")").strip());

        Storage.Lock taken = tryLockWithin(node2, "killed-session", AT_ONCE).orElseThrow(
                () -> new AssertionError("the lock of a killed session was not free within " + AT_ONCE.toSeconds() + " s"));
        assertThrows(LockLostException.class, () -> node1.store("fence/cert.pem", bytes("stale holder"), lock));
        assertThrows(LockLostException.class,
                () -> node1.storeSet("fence/set", Map.of("cert.pem", bytes("stale holder")), lock));
        assertThrows(LockLostException.class, lock::ensureHeld);
        assertArrayEquals(bytes("before"), node2.load("fence/cert.pem").orElseThrow(), "the lost holder wrote nothing");
        assertEquals(List.of(), node2.list("fence/set"));
        lock.close(); // harmless
        node2.store("fence/cert.pem", bytes("new holder"), taken);
        taken.ensureHeld();
        taken.close();
        assertThrows(LockLostException.class, taken::ensureHeld);
    }

    @Test
    void anotherInstanceOfThisProcessCannotTakeAHeldLock() throws Exception {
        try (PostgresStorage third = open(); Storage.Lock lock = node1.tryLock("same-jvm", LEASE).orElseThrow()) {
            assertEquals(Optional.empty(), third.tryLock("same-jvm", LEASE));
            assertEquals(Optional.empty(), node1.tryLock("same-jvm", LEASE), "not re-entrant");
            CompletableFuture<Boolean> otherThread = CompletableFuture.supplyAsync(() -> {
                try {
                    return node1.tryLock("same-jvm", LEASE).isPresent();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(false, otherThread.get(60, TimeUnit.SECONDS));
            lock.ensureHeld();
        }
        node2.tryLock("same-jvm", LEASE).orElseThrow().close();
    }

    @Test
    void aKilledProcessReleasesItsLockAtOnce() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", LockHolderMain.class.getName(), PG.jdbcUrl(database),
                "other-process")
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("PGUSER", PG.username());
        builder.environment().put("PGPASSWORD", PG.password());
        Process holder = builder.start();
        try {
            BufferedReader output = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<String> said = CompletableFuture.supplyAsync(() -> {
                try {
                    return output.readLine();
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals("LOCKED", said.get(120, TimeUnit.SECONDS)); // a JVM starting on a loaded machine
            assertEquals(Optional.empty(), node1.tryLock("other-process", LEASE), "held by the other process");

            holder.destroyForcibly(); // kill -9: no chance to release anything
            assertTrue(holder.waitFor(60, TimeUnit.SECONDS));

            Storage.Lock lock = tryLockWithin(node1, "other-process", AT_ONCE).orElseThrow(
                    () -> new AssertionError("the lock of a killed process was not free within " + AT_ONCE.toSeconds() + " s"));
            lock.close();
        } finally {
            holder.destroyForcibly();
        }
    }
}
