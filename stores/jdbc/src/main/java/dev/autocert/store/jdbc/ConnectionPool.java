package dev.autocert.store.jdbc;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
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

    private final Source source;
    private final int maxIdle;
    private final Deque<Idle> idle = new ArrayDeque<>();
    private boolean closed;

    private record Idle(Connection connection, long since) {
    }

    /**
     * @param source where connections come from
     * @param maxIdle how many idle connections to keep; 0 when the source is itself a pool
     */
    ConnectionPool(Source source, int maxIdle) {
        this.source = requireNonNull(source, "source");
        this.maxIdle = maxIdle;
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
            closeQuietly(connection);
            throw e;
        }
        return connection;
    }

    /** Takes back a healthy connection in auto-commit mode, outside any transaction, holding no lock. */
    void release(Connection connection) {
        try {
            if (connection.isClosed() || !connection.getAutoCommit()) {
                closeQuietly(connection);
                return;
            }
        } catch (SQLException e) {
            closeQuietly(connection);
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

    /** Closes a connection that failed or may hold state (a lock) that must end with its session. */
    void discard(Connection connection) {
        closeQuietly(connection);
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

    static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Could not close a connection cleanly", e);
        }
    }
}
