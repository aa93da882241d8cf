package dev.autocert.store.jdbc;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of one {@link PostgresStorage}: opened on demand, up to a few idle ones kept for
 * the next caller, all closed by {@link #close()}. Thread-safe.
 *
 * <p>There is no limit on connections in use: each one is used by one thread for one operation,
 * or by one held lock for its life, and Autocert has few of either. An idle connection is checked
 * ({@link Connection#isValid}) before reuse when it has been idle a while, since the server or a
 * firewall may have dropped it.
 *
 * <p>When the source is an application's pool ({@link #borrowing}), closing a connection gives the
 * session back to that pool, with whatever state it holds. So a session that held an advisory lock,
 * listened, or had its keepalives set goes back only after {@link #RESET_SESSION} succeeded
 * ({@link #releaseSession}, {@link #closeSession}); a session whose state is unknown (a failed
 * unlock, a broken connection) is {@linkplain Connection#abort aborted}, so that the pool drops it
 * ({@link #discard}). Otherwise a later borrower could find itself holding a lock (advisory locks
 * are re-entrant per session), or receiving notifications.
 */
final class ConnectionPool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPool.class);

    /** Opens a new physical connection (or borrows one from an application's pool). */
    @FunctionalInterface
    interface Source {
        Connection connect() throws SQLException;
    }

    /** Reused without a check when idle for less than this. */
    private static final Duration CHECK_AFTER_IDLE = Duration.ofSeconds(5);
    private static final int CHECK_TIMEOUT_SECONDS = 5;

    /**
     * Ends what a lock or a listener may have left on a session: advisory locks, {@code LISTEN},
     * the keepalive settings of {@link AdvisoryLock#KEEPALIVES_AND_TRY}. Run in auto-commit mode.
     */
    static final String RESET_SESSION = "SELECT pg_advisory_unlock_all(); UNLISTEN *; RESET tcp_keepalives_idle; "
            + "RESET tcp_keepalives_interval; RESET tcp_keepalives_count";

    /** Runs {@link Connection#abort}'s work in the calling thread, so the connection is closed when it returns. */
    private static final Executor IN_THIS_THREAD = Runnable::run;

    private final Source source;
    private final int maxIdle;
    /** Whether {@link Connection#close()} gives the session back to an application's pool rather than ending it. */
    private final boolean borrowed;
    private final Deque<Idle> idle = new ArrayDeque<>();
    private boolean closed;

    private record Idle(Connection connection, long since) {
    }

    private ConnectionPool(Source source, int maxIdle, boolean borrowed) {
        this.source = requireNonNull(source, "source");
        this.maxIdle = maxIdle;
        this.borrowed = borrowed;
    }

    /** {@return a pool of physical connections from {@code source} (a driver), keeping up to {@code maxIdle} idle} */
    static ConnectionPool own(Source source, int maxIdle) {
        return new ConnectionPool(source, maxIdle, false);
    }

    /**
     * {@return a pool that borrows every connection from {@code source}, an application's
     * {@code DataSource} (often a pool itself), keeps none idle, and cleans or aborts sessions
     * that held state before giving them back}
     */
    static ConnectionPool borrowing(Source source) {
        return new ConnectionPool(source, 0, true);
    }

    /** {@return whether closing a connection gives its session back to an application's pool} */
    boolean borrowed() {
        return borrowed;
    }

    /** {@return a connection in auto-commit mode, for the caller alone until {@link #release} or {@link #discard}} */
    Connection acquire() throws SQLException {
        while (true) {
            Idle candidate;
            synchronized (this) {
                if (closed) {
                    throw new SQLException("the store is closed", "08003");
                }
                candidate = idle.pollLast();
            }
            if (candidate == null) {
                return open();
            }
            if (System.nanoTime() - candidate.since() < CHECK_AFTER_IDLE.toNanos()
                    || candidate.connection().isValid(CHECK_TIMEOUT_SECONDS)) {
                return candidate.connection();
            }
            LOG.debug("Dropping an idle connection that no longer answers");
            closeQuietly(candidate.connection());
        }
    }

    /** {@return a new connection in auto-commit mode, never pooled, for a long-lived use such as {@code LISTEN}} */
    Connection open() throws SQLException {
        Connection connection = source.connect();
        if (connection == null) {
            throw new SQLException("the driver did not accept the URL", "08001");
        }
        try {
            connection.setAutoCommit(true);
        } catch (SQLException e) {
            discard(connection);
            throw e;
        }
        return connection;
    }

    /**
     * Takes back a healthy connection in auto-commit mode, outside any transaction, that holds no
     * session state: no advisory lock, no {@code LISTEN}, no setting changed.
     */
    void release(Connection connection) {
        try {
            if (connection.isClosed() || !connection.getAutoCommit()) {
                discard(connection);
                return;
            }
        } catch (SQLException e) {
            discard(connection);
            return;
        }
        synchronized (this) {
            if (!closed && idle.size() < maxIdle) {
                idle.addLast(new Idle(connection, System.nanoTime()));
                return;
            }
        }
        closeQuietly(connection);
    }

    /**
     * Takes back a connection whose session held state that was ended (a lock that was unlocked, a
     * lock not taken): kept for reuse in this pool, whose sessions are its own; given back to an
     * application's pool only after {@link #RESET_SESSION}, and aborted if that fails.
     */
    void releaseSession(Connection connection) {
        if (borrowed) {
            closeSession(connection);
        } else {
            release(connection);
        }
    }

    /**
     * Ends the use of a connection whose session held state (a {@code LISTEN}), never reusing it:
     * closed when the session is this pool's own; given back to an application's pool only after
     * {@link #RESET_SESSION} succeeded, aborted otherwise.
     */
    void closeSession(Connection connection) {
        if (!borrowed) {
            closeQuietly(connection);
            return;
        }
        try {
            if (connection.isClosed()) {
                discard(connection);
                return;
            }
            if (!connection.getAutoCommit()) {
                connection.rollback();
                connection.setAutoCommit(true);
            }
            try (Statement statement = connection.createStatement()) {
                statement.execute(RESET_SESSION);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Could not reset a session before giving it back to the application's pool; aborting it", e);
            discard(connection);
            return;
        }
        closeQuietly(connection);
    }

    /**
     * Ends a connection that failed or whose session may hold state (a lock) that must end with it.
     * Closed when the session is this pool's own; aborted when it is borrowed, so that the
     * application's pool drops it instead of lending it again with that state.
     */
    void discard(Connection connection) {
        if (!borrowed) {
            closeQuietly(connection);
            return;
        }
        abortQuietly(connection);
    }

    /** Closes the idle connections; connections in use are closed when they come back. */
    @Override
    public void close() {
        Deque<Idle> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayDeque<>(idle);
            idle.clear();
        }
        toClose.forEach(entry -> closeQuietly(entry.connection()));
    }

    /**
     * Aborts {@code connection}, which closes its socket so the server ends the session, then
     * closes it, so an application's pool takes its entry back and finds it dead. When the pool's
     * connection does not support {@code abort}, the driver's connection under it is aborted.
     */
    static void abortQuietly(Connection connection) {
        try {
            connection.abort(IN_THIS_THREAD);
        } catch (SQLException | RuntimeException e) {
            try {
                Connection physical = connection.unwrap(PGConnection.class) instanceof Connection pg ? pg : null;
                if (physical != null && physical != connection) {
                    physical.abort(IN_THIS_THREAD);
                } else {
                    LOG.warn("Could not abort a connection of the application's pool ({}); closing it", e.getMessage());
                }
            } catch (SQLException | RuntimeException unwrapFailed) {
                e.addSuppressed(unwrapFailed);
                LOG.warn("Could not abort a connection of the application's pool ({}); closing it", e.getMessage(), e);
            }
        }
        closeQuietly(connection);
    }

    static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Could not close a connection cleanly", e);
        }
    }
}
