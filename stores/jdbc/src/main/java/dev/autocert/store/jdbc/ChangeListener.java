package dev.autocert.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon thread that listens on {@link Schema#CHANNEL} with a connection of its own and runs
 * the callbacks given to {@link PostgresStorage#watch} after each batch of notifications. When
 * the connection breaks, it reconnects after a growing pause ({@link #BACKOFF}) and runs the
 * callbacks once, since changes may have been missed meanwhile. {@link #close()} stops it.
 *
 * <p>PostgreSQL also delivers the notifications of this process's own writes; callbacks re-read
 * what they follow, so that does no harm.
 */
final class ChangeListener implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeListener.class);

    /** How long one wait for notifications lasts; {@link #close()} takes effect within it. */
    private static final int WAIT_MILLIS = 500;
    /** How often an idle connection is checked with a query, so a vanished server is noticed (the socket timeout bounds it). */
    private static final Duration CHECK_EVERY = Duration.ofSeconds(30);
    /** Pauses before reconnecting: 1 s, 2 s, 4 s, … up to 30 s, then every 30 s. */
    private static final Duration[] BACKOFF = {
        Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(8),
        Duration.ofSeconds(16), Duration.ofSeconds(30)};

    private final ConnectionPool pool;
    private final String where;
    private final List<Runnable> callbacks = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean closed;

    ChangeListener(ConnectionPool pool, String where) {
        this.pool = pool;
        this.where = where;
        this.thread = new Thread(this::run, "autocert-postgres-listener");
        this.thread.setDaemon(true);
    }

    void add(Runnable callback) {
        callbacks.add(callback);
    }

    void start() {
        thread.start();
    }

    private void run() {
        int failures = 0;
        boolean listenedBefore = false;
        while (!closed) {
            Connection connection = null;
            try {
                connection = pool.open();
                try (Statement statement = connection.createStatement()) {
                    statement.execute("LISTEN " + Schema.CHANNEL);
                }
                PGConnection listening = connection.unwrap(PGConnection.class);
                if (listenedBefore) {
                    LOG.info("Listening for changes at {} again", where);
                    fire(); // what changed while the connection was down
                } else {
                    LOG.debug("Listening for changes at {}", where);
                }
                listenedBefore = true;
                failures = 0;
                listen(connection, listening);
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    break;
                }
                Duration pause = BACKOFF[Math.min(failures, BACKOFF.length - 1)];
                failures++;
                if (failures == 1) {
                    LOG.warn("Lost the connection that listens for changes at {} ({}); reconnecting in {} s", where,
                            e.getMessage(), pause.toSeconds());
                } else {
                    LOG.debug("Could not listen for changes at {} (attempt {}): {}; trying again in {} s", where, failures,
                            e.getMessage(), pause.toSeconds());
                }
                sleep(pause);
            } finally {
                if (connection != null) {
                    ConnectionPool.closeQuietly(connection);
                }
            }
        }
        LOG.debug("Stopped listening for changes at {}", where);
    }

    private void listen(Connection connection, PGConnection listening) throws SQLException {
        long lastCheck = System.nanoTime();
        while (!closed) {
            PGNotification[] notifications = listening.getNotifications(WAIT_MILLIS);
            if (notifications != null && notifications.length > 0) {
                fire();
                lastCheck = System.nanoTime();
            } else if (System.nanoTime() - lastCheck > CHECK_EVERY.toNanos()) {
                try (Statement statement = connection.createStatement()) {
                    statement.execute("SELECT 1");
                }
                lastCheck = System.nanoTime();
            }
        }
    }

    private void fire() {
        for (Runnable callback : callbacks) {
            try {
                callback.run();
            } catch (RuntimeException e) {
                LOG.warn("A change callback of the store at {} failed", where, e);
            }
        }
    }

    private void sleep(Duration pause) {
        long end = System.nanoTime() + pause.toNanos();
        while (!closed && System.nanoTime() - end < 0) {
            try {
                Thread.sleep(Math.min(100, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    /** Stops the thread and closes its connection; waits briefly for it. */
    @Override
    public void close() {
        closed = true; // seen within WAIT_MILLIS, or 100 ms while pausing
        try {
            thread.join(2 * WAIT_MILLIS + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
