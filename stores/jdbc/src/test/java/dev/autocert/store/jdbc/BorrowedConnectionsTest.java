package dev.autocert.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.LockLostException;
import dev.autocert.core.Storage;
import dev.autocert.testkit.PostgresServer;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A store on an application's pool ({@link ReusingDataSource}, which gives the same session out
 * again without resetting it): a session goes back to the pool only without advisory locks,
 * without LISTEN and with its settings reset, and is aborted when that cannot be made sure, so a
 * later borrower never inherits a lock (advisory locks are re-entrant per session).
 */
class BorrowedConnectionsTest {

    @RegisterExtension
    static final PostgresServer PG = PostgresServer.builder().build();

    private static final Duration LEASE = Duration.ofMinutes(1);
    /** Generous: only a failure waits this long. */
    private static final Duration WITHIN = Duration.ofSeconds(30);

    private ReusingDataSource pool;
    private PostgresStorage borrowing;
    private PostgresStorage node;
    /** The state of a session no one used: no lock, no LISTEN, the server's keepalives. */
    private String pristine;

    @BeforeEach
    void openStores() throws Exception {
        String database = PG.newDatabase();
        PGSimpleDataSource physical = new PGSimpleDataSource();
        physical.setUrl(PG.jdbcUrl(database));
        physical.setUser(PG.username());
        physical.setPassword(PG.password());
        pool = new ReusingDataSource(physical);
        try (Connection fresh = pool.getConnection()) {
            pristine = state(fresh);
        }
        borrowing = new PostgresStorage(pool);
        borrowing.open();
        Properties properties = new Properties();
        properties.setProperty("user", PG.username());
        properties.setProperty("password", PG.password());
        node = new PostgresStorage(PG.jdbcUrl(database), properties); // another node, with its own connections
        node.open();
    }

    @AfterEach
    void closeStores() {
        pool.failNothing();
        borrowing.close();
        node.close();
        pool.closeAll();
    }

    /** {@return the advisory locks, channels listened to and keepalive settings of the session of {@code connection}} */
    private static String state(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        + "AND pid = pg_backend_pid()), (SELECT count(*) FROM pg_listening_channels()), "
                        + "current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'), "
                        + "current_setting('tcp_keepalives_count')")) {
            row.next();
            return "advisory locks " + row.getLong(1) + ", channels " + row.getLong(2) + ", keepalives " + row.getString(3)
                    + "/" + row.getString(4) + "/" + row.getString(5);
        }
    }

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

    /** The other node can take {@code name}; while it holds it, a tryLock through the pool gets empty, and every idle session of the pool is clean. */
    private void assertExclusiveThroughThePool(String name) throws Exception {
        Storage.Lock other = tryLockWithin(node, name, WITHIN).orElseThrow(
                () -> new AssertionError("a session of the pool still holds " + name));
        try {
            for (int i = 0; i < 3; i++) {
                assertEquals(Optional.empty(), borrowing.tryLock(name, LEASE), "held by the other node");
            }
            for (Connection idle : pool.idle()) {
                assertEquals(pristine, state(idle), "every idle session of the pool is clean");
            }
        } finally {
            other.close();
        }
        borrowing.tryLock(name, LEASE).orElseThrow().close();
    }

    @Test
    void aReleasedLocksSessionGoesBackClean() throws Exception {
        AdvisoryLock lock = (AdvisoryLock) borrowing.tryLock("released", LEASE).orElseThrow();
        Connection session = pool.physical(lock.backendPid());
        assertNotEquals(pristine, state(session), "the lock's session has its keepalives set");
        assertEquals(Optional.empty(), node.tryLock("released", LEASE));
        assertEquals(Optional.empty(), borrowing.tryLock("released", LEASE), "not re-entrant through the pool");

        lock.close();
        assertNotNull(pool.idle(lock.backendPid()), "a session that was unlocked goes back to the pool");
        assertEquals(pristine, state(session));
        assertExclusiveThroughThePool("released");
    }

    @Test
    void aLockWhoseReleaseFailsEndsItsSession() throws Exception {
        AdvisoryLock lock = (AdvisoryLock) borrowing.tryLock("release-fails", LEASE).orElseThrow();
        pool.failBefore(sql -> sql.contains("pg_advisory_unlock")); // the unlock, and pg_advisory_unlock_all
        lock.close();
        pool.failNothing();

        assertThrows(LockLostException.class, lock::ensureHeld);
        assertNull(pool.idle(lock.backendPid()), "not given back still holding the lock");
        assertTrue(pool.physical(lock.backendPid()).isClosed(), "aborted");
        assertExclusiveThroughThePool("release-fails");
    }

    @Test
    void aLockTakenWhoseAnswerWasLostEndsItsSession() throws Exception {
        pool.failAfter(sql -> sql.contains("pg_try_advisory_lock")); // taken on the server, then an error
        assertThrows(IOException.class, () -> borrowing.tryLock("answer-lost", LEASE));
        pool.failNothing();
        assertExclusiveThroughThePool("answer-lost");
    }

    @Test
    void aLockNotTakenLeavesNoSettingsOnTheSession() throws Exception {
        try (Storage.Lock held = node.tryLock("busy", LEASE).orElseThrow()) {
            assertEquals(Optional.empty(), borrowing.tryLock("busy", LEASE));
            assertFalse(pool.idle().isEmpty());
            for (Connection idle : pool.idle()) {
                assertEquals(pristine, state(idle));
            }
        }
    }

    @Test
    void theListenersSessionGoesBackNotListening() throws Exception {
        Semaphore changes = new Semaphore(0);
        borrowing.watch(changes::release);
        ChangeListener listener = borrowing.listener();
        assertTrue(listener.awaitListening(WITHIN), "listening");
        int pid = listener.backendPid();
        node.store("watched", new byte[] {1});
        assertTrue(changes.tryAcquire(WITHIN.toSeconds(), TimeUnit.SECONDS), "told of a change");

        borrowing.close();
        assertFalse(listener.isAlive(), "the listener's thread stopped");
        Connection session = pool.idle(pid);
        assertNotNull(session, "the listener's session went back to the pool");
        assertEquals(pristine, state(session), "not listening any more");
        node.store("unwatched", new byte[] {2});
        PGNotification[] piled = session.unwrap(PGConnection.class).getNotifications(500);
        assertTrue(piled == null || piled.length == 0, "no notifications pile up in the pool's connection");
    }

    @Test
    void theListenersSessionIsAbortedWhenItCannotBeReset() throws Exception {
        borrowing.watch(() -> { });
        ChangeListener listener = borrowing.listener();
        assertTrue(listener.awaitListening(WITHIN), "listening");
        int pid = listener.backendPid();
        pool.failBefore(sql -> sql.contains("UNLISTEN"));
        borrowing.close();
        assertFalse(listener.isAlive(), "the listener's thread stopped");
        assertNull(pool.idle(pid), "not given back still listening");
        assertTrue(pool.physical(pid).isClosed(), "aborted");
    }
}
