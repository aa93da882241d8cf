package dev.autocert.store.jdbc;

import dev.autocert.core.LockLostException;
import dev.autocert.core.Storage;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Storage.Lock} held as a session-level advisory lock ({@code pg_try_advisory_lock}) on a
 * connection of its own, kept for the lock's life. The session is the lease: when the holder dies,
 * its socket closes and PostgreSQL releases the lock at once; when its host vanishes, the server's
 * TCP keepalives (set on the session, {@link #KEEPALIVES}) end the session within about 30 s. No
 * clock is compared anywhere.
 *
 * <p>Fenced writes ({@link #fenced}) run on this connection, in one transaction that first checks
 * that the lock is still in {@code pg_locks} for this session: a lock whose session ended cannot
 * write, because its connection cannot. Thread-safe: one thread at a time uses the connection.
 */
final class AdvisoryLock implements Storage.Lock {

    private static final Logger LOG = LoggerFactory.getLogger(AdvisoryLock.class);

    /**
     * Sets the server's TCP keepalives for this session (idle 10 s, then 4 probes 5 s apart: a
     * vanished client is noticed after about 30 s; user-settable, ignored on Unix sockets) and
     * tries the lock, in one round trip.
     */
    static final String KEEPALIVES_AND_TRY = "SELECT set_config('tcp_keepalives_idle', '10', false), "
            + "set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '4', false), "
            + "pg_try_advisory_lock(?), pg_backend_pid()";

    /** A bigint advisory lock appears in pg_locks as classid (high half), objid (low half), objsubid 1. */
    private static final String HELD = "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
            + "AND granted AND objsubid = 1 AND classid = ?::bigint::oid AND objid = ?::bigint::oid";
    private static final String UNLOCK = "SELECT pg_advisory_unlock(?)";

    private final PostgresStorage storage;
    private final ConnectionPool pool;
    private final String name;
    private final long key;
    private final int backendPid;
    /** The lock's session; null once released or lost. */
    private Connection connection;
    /** Why the lock is no longer held, once it is not. */
    private String gone;

    AdvisoryLock(PostgresStorage storage, ConnectionPool pool, String name, long key, Connection connection, int backendPid) {
        this.storage = storage;
        this.pool = pool;
        this.name = name;
        this.key = key;
        this.connection = connection;
        this.backendPid = backendPid;
    }

    /**
     * Takes the lock with {@code key} on {@code connection} if it is free; {@return the session's
     * backend process id when it did, -1 when another session holds it}. The caller gives the
     * connection to a new lock when it did, and may reuse it when not.
     */
    static int tryTake(Connection connection, long key) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(KEEPALIVES_AND_TRY)) {
            statement.setLong(1, key);
            try (ResultSet row = statement.executeQuery()) {
                row.next();
                return row.getBoolean(4) ? row.getInt(5) : -1;
            }
        }
    }

    /** {@return the store that took the lock} */
    PostgresStorage owner() {
        return storage;
    }

    /** {@return the lock's name} */
    String name() {
        return name;
    }

    /** {@return the process id of the lock's session on the server, as in {@code pg_stat_activity}} */
    int backendPid() {
        return backendPid;
    }

    @Override
    public synchronized void ensureHeld() throws IOException {
        fenced("check the lock " + name, c -> null);
    }

    /**
     * Runs {@code work} on the lock's session, in one transaction, only while the lock is held.
     *
     * @throws LockLostException when the lock was released or its session ended; nothing was written
     */
    synchronized <T> T fenced(String what, SqlWork<T> work) throws IOException {
        Connection session = connection;
        if (session == null) {
            throw new LockLostException("The lock " + name + " is not held: it was " + gone);
        }
        try {
            session.setAutoCommit(false);
            if (!held(session)) {
                session.rollback();
                lose("lost: it is no longer held by its session (backend " + backendPid + ")");
                throw new LockLostException("The lock " + name + " is not held: it was " + gone);
            }
            T result = work.run(session);
            session.commit();
            session.setAutoCommit(true);
            return result;
        } catch (SQLException e) {
            if (!PostgresStorage.isBroken(session, e)) {
                try {
                    session.rollback();
                    session.setAutoCommit(true);
                    throw storage.failure(what, e);
                } catch (SQLException rollbackFailed) {
                    e.addSuppressed(rollbackFailed);
                }
            }
            lose("lost: its database session ended (" + e.getMessage() + ")");
            LockLostException lost = new LockLostException("The lock " + name + " is not held: it was " + gone
                    + "; another node may hold it now. Nothing was written");
            lost.initCause(e);
            throw lost;
        } catch (RuntimeException e) {
            try { // leave no transaction open for the next fenced write to commit
                session.rollback();
                session.setAutoCommit(true);
            } catch (SQLException rollbackFailed) {
                e.addSuppressed(rollbackFailed);
                lose("lost: its database session failed (" + rollbackFailed.getMessage() + ")");
            }
            throw e;
        }
    }

    private boolean held(Connection session) throws SQLException {
        try (PreparedStatement statement = session.prepareStatement(HELD)) {
            statement.setLong(1, key >>> 32);
            statement.setLong(2, key & 0xFFFF_FFFFL);
            try (ResultSet row = statement.executeQuery()) {
                return row.next();
            }
        }
    }

    /** Marks the lock lost and closes its session, which releases the lock if the server still had it. */
    private void lose(String reason) {
        Connection session = connection;
        connection = null;
        gone = reason;
        LOG.warn("The lock {} at {} was {}", name, storage.where(), reason);
        if (session != null) {
            pool.discard(session);
        }
        storage.forget(this);
    }

    /**
     * Releases the lock. When {@code pg_advisory_unlock} confirms it, the session holds nothing and
     * is given back ({@link ConnectionPool#releaseSession}, which resets it first when it is an
     * application's); otherwise the session is ended, never reused ({@link ConnectionPool#discard}:
     * closed, or aborted when borrowed), which releases the lock if the server still had it.
     */
    @Override
    public void close() {
        release("released");
    }

    /** Releases the lock as the store closes. */
    void closeWithStore() {
        release("released when its store was closed");
    }

    private synchronized void release(String reason) {
        Connection session = connection;
        if (session == null) {
            return;
        }
        connection = null;
        gone = reason;
        storage.forget(this);
        boolean unlocked = false;
        try (PreparedStatement statement = session.prepareStatement(UNLOCK)) {
            statement.setLong(1, key);
            try (ResultSet row = statement.executeQuery()) {
                unlocked = row.next() && row.getBoolean(1);
            }
            if (!unlocked) {
                LOG.warn("The lock {} at {} was no longer held by its session when released", name, storage.where());
            }
        } catch (SQLException | RuntimeException e) {
            // Ending the session below releases the lock if the server still has it.
            LOG.debug("Could not release the lock {} at {} with pg_advisory_unlock; ending its session", name,
                    storage.where(), e);
        }
        if (unlocked) {
            pool.releaseSession(session); // holds nothing now: fit for reuse
            LOG.debug("Released the lock {} at {}", name, storage.where());
        } else {
            pool.discard(session); // state unknown: never reused
        }
    }

    @Override
    public synchronized String toString() {
        return "lock " + name + (connection != null ? " (held by backend " + backendPid + ")" : " (" + gone + ")");
    }
}
