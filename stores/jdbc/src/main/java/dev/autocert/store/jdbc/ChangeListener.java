package dev.autocert.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
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
 * <p>The connection comes from {@link ConnectionPool#open()}; when it is an application's pool's,
 * it goes back to it after {@code UNLISTEN *} ({@link ConnectionPool#closeSession}), or is aborted
 * when that fails or the connection broke, so that no borrower of that session keeps receiving
 * notifications.
 *
 * <p>PostgreSQL also delivers the notifications of this process's own writes; callbacks re-read
 * what they follow, so that does no harm.
 */
final class ChangeListener implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeListener.class);

    /** How long one wait for notifications lasts; {@link #close()} takes effect within it. */
    private static final int WAIT_MILLIS = 250;
    /** How long {@link #close()} waits for the thread before aborting its connection, then after that. */
    private static final Duration STOP_WAIT = Duration.ofMillis(WAIT_MILLIS + 750);
    private static final Duration ABORTED_STOP_WAIT = Duration.ofSeconds(5);
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
    /** The connection in use, taken (set to null) by whoever ends it: the thread, or {@link #close()} when the thread is stuck. */
    private final AtomicReference<Connection> current = new AtomicReference<>();
    /** Guards {@link #listeningPid}, which is the backend of the session once its LISTEN succeeded, -1 otherwise. */
    private final Object state = new Object();
    private int listeningPid = -1;

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

    /**
     * Waits until the {@code LISTEN} is in effect, so that every later commit is notified; {@return
     * whether it is, false when {@code timeout} ran out or the listener was closed first}. For tests.
     */
    boolean awaitListening(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        synchronized (state) {
            while (listeningPid < 0 && !closed) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                state.wait(Math.max(1, left / 1_000_000));
            }
            return listeningPid >= 0;
        }
    }

    /** {@return the server process of the listening session, -1 while there is none} */
    int backendPid() {
        synchronized (state) {
            return listeningPid;
        }
    }

    /** {@return whether the thread still runs} */
    boolean isAlive() {
        return thread.isAlive();
    }

    private void listening(int pid) {
        synchronized (state) {
            listeningPid = pid;
            state.notifyAll();
        }
    }

    private void run() {
        int failures = 0;
        boolean listenedBefore = false;
        while (!closed) {
            Connection connection = null;
            boolean clean = false;
            try {
                connection = pool.open();
                current.set(connection);
                if (closed) {
                    clean = true;
                    break;
                }
                try (Statement statement = connection.createStatement()) {
                    statement.execute("LISTEN " + Schema.CHANNEL);
                }
                PGConnection listening = connection.unwrap(PGConnection.class);
                listening(listening.getBackendPID());
                if (listenedBefore) {
                    LOG.info("Listening for changes at {} again", where);
                    fire(); // what changed while the connection was down
                } else {
                    LOG.debug("Listening for changes at {}", where);
                }
                listenedBefore = true;
                failures = 0;
                listen(connection, listening);
                clean = true; // stopped by close(), between two waits: the session is in a known state
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
                end(connection, false);
                connection = null;
                sleep(pause);
            } finally {
                end(connection, clean);
            }
        }
        LOG.debug("Stopped listening for changes at {}", where);
    }

    /**
     * Ends the use of {@code connection} unless {@link #close()} took it: given back after
     * {@code UNLISTEN *} when {@code clean}, aborted (or closed, when it is this store's own) otherwise.
     */
    private void end(Connection connection, boolean clean) {
        listening(-1);
        if (connection == null || !current.compareAndSet(connection, null)) {
            return;
        }
        if (clean) {
            pool.closeSession(connection);
        } else {
            pool.discard(connection);
        }
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
            if (closed) {
                return;
            }
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

    /**
     * Stops the thread and ends its connection. The thread notices within {@link #WAIT_MILLIS} (or
     * 100 ms while pausing); when it does not stop in time (a query or a connection attempt that
     * hangs), its connection is aborted, which ends a blocked read at once. Closing twice does nothing.
     */
    @Override
    public void close() {
        closed = true;
        synchronized (state) {
            state.notifyAll(); // wakes awaitListening
        }
        if (Thread.currentThread() == thread) {
            return; // from a callback: the thread stops once it returns
        }
        try {
            thread.join(STOP_WAIT.toMillis());
            if (thread.isAlive()) {
                Connection stuck = current.getAndSet(null);
                if (stuck != null) {
                    LOG.debug("The listener at {} did not stop within {} ms; aborting its connection", where,
                            STOP_WAIT.toMillis());
                    pool.discard(stuck);
                }
                thread.join(ABORTED_STOP_WAIT.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("The thread listening for changes at {} has not stopped yet (connecting?); it will stop on its own", where);
        }
    }
}
