package dev.autocert.store.jdbc;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.Storage;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Storage} in a PostgreSQL database (9.6 or newer), shared by every node of a cluster that
 * names it: {@code autocert.storage=jdbc:postgresql://HOST[:PORT]/DATABASE}.
 *
 * <h2>Tables</h2>
 * {@link #open()} creates three tables on first use, once even when nodes start together:
 * {@code autocert_entries} (one row per key, the value as {@code bytea}), {@code autocert_changes}
 * (one row, a counter every write moves) and {@code autocert_schema} (the schema's version). They go
 * in the first schema of the {@code search_path}, normally {@code public}; give another with
 * {@code ?currentSchema=NAME} in the URL. Creating them needs {@code CREATE} on that schema; using
 * them needs {@code SELECT, INSERT, UPDATE, DELETE} on {@code autocert_entries},
 * {@code SELECT, UPDATE} on {@code autocert_changes} and {@code SELECT} on {@code autocert_schema}.
 * The messages of {@link #open()} give the {@code GRANT} statements when one is missing.
 *
 * <h2>Writes</h2>
 * Every write ({@link #store}, {@link #storeSet}, {@link #delete}) is one transaction that moves
 * the change counter ({@link #changeMarker()}) and notifies the channel {@code autocert_changes},
 * which {@link #watch} listens to. A set is replaced whole in one transaction.
 *
 * <h2>Locks</h2>
 * A lock is a session-level advisory lock ({@code pg_try_advisory_lock}, keyed by 64 bits of a
 * SHA-256 of its name) on a connection of its own, held open as long as the lock: the database
 * session is the lease, so the {@code lease} argument of {@link #tryLock} is not used. A holder
 * that dies loses its locks as soon as its connection closes; a holder whose host vanishes, once
 * the server's TCP keepalives give up (about 30 s). Fenced writes run on the lock's own session,
 * so a lock that was lost can never write. Advisory locks need a real session: connect directly
 * or through a pooler in session mode, not PgBouncer's transaction mode.
 *
 * <h2>Connections</h2>
 * A few idle connections are kept for reuse, plus one per held lock and one for {@link #watch}.
 * Connection defaults, overridden by the URL's own parameters: {@code connectTimeout=10},
 * {@code loginTimeout=20}, {@code socketTimeout=60}, {@code tcpKeepAlive=true},
 * {@code ApplicationName=autocert}. Failures are {@link IOException}s whose messages name the URL
 * (without passwords) and what failed.
 *
 * <p>Thread-safe. Passwords are never logged nor shown by {@link #toString()}.
 */
public final class PostgresStorage implements Storage {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresStorage.class);

    /** Idle connections kept when connecting by URL. */
    private static final int MAX_IDLE = 4;

    private final ConnectionPool pool;
    private final Set<AdvisoryLock> locks = ConcurrentHashMap.newKeySet();
    private volatile String where;
    private volatile boolean prepared;
    private volatile boolean closed;
    private ChangeListener listener;

    /**
     * A store that connects to {@code url} with the PostgreSQL driver; nothing is connected until
     * the first use ({@link #open()}).
     *
     * @param url {@code jdbc:postgresql://HOST[:PORT]/DATABASE[?PARAMETERS]}
     * @param properties driver properties, such as {@code user} and {@code password}, which win over
     *     the URL's; without them, the URL's, then the variables {@code PGUSER} and {@code PGPASSWORD}
     *     ({@code ~/.pgpass} after that, read by the driver). Copied.
     * @throws IllegalArgumentException when the driver does not accept the URL
     * @throws IllegalStateException when the driver ({@code org.postgresql:postgresql}) is not on the class path
     */
    public PostgresStorage(String url, Properties properties) {
        this(resolve(url, properties, System.getenv()));
    }

    /**
     * A store that takes its connections from {@code dataSource}, such as an application's
     * connection pool; it keeps none idle itself. Nothing is connected until the first use. A
     * connection that held a lock or listened goes back to {@code dataSource} only once its
     * session holds no advisory lock, listens to nothing and has its settings reset; when that
     * cannot be made sure, it is {@linkplain java.sql.Connection#abort aborted}, so the pool drops it.
     *
     * @param dataSource connections to a PostgreSQL database, through the PostgreSQL driver
     */
    public PostgresStorage(DataSource dataSource) {
        requireNonNull(dataSource, "dataSource");
        this.pool = ConnectionPool.borrowing(dataSource::getConnection);
        this.where = "a DataSource (" + dataSource.getClass().getName() + ")";
    }

    private PostgresStorage(ConnectionProperties connection) {
        this.pool = ConnectionPool.own(PgDriver.source(connection.url(), connection.properties()), MAX_IDLE);
        this.where = connection.description();
    }

    static ConnectionProperties resolve(String url, Properties properties, Map<String, String> environment) {
        requireNonNull(url, "url");
        requireNonNull(properties, "properties");
        PgDriver.require();
        Properties inUrl = PgDriver.parse(url);
        if (inUrl == null) {
            throw new IllegalArgumentException("'" + dev.autocert.core.StorageSettings.redact(url)
                    + "' is not a PostgreSQL JDBC URL: give jdbc:postgresql://HOST[:PORT]/DATABASE[?PARAMETERS]");
        }
        return ConnectionProperties.resolve(url, properties, environment, inUrl);
    }

    /**
     * Connects, creates the tables when missing (once, even when several nodes start together) and
     * checks their version and this user's privileges. Other methods do it on first use too.
     *
     * @throws IOException naming the URL and what is wrong: the server cannot be reached, the
     *     credentials are refused, a privilege is missing (with the {@code GRANT} to run), or the
     *     tables are of a newer version than this code knows
     */
    @Override
    public void open() throws IOException {
        requireOpen();
        if (prepared) {
            return;
        }
        synchronized (this) {
            if (prepared) {
                return;
            }
            Connection connection;
            try {
                connection = pool.acquire();
            } catch (SQLException e) {
                requireOpen(); // closed meanwhile: say so
                throw new IOException("Could not connect to PostgreSQL at " + where + ": " + e.getMessage(), e);
            }
            if (where.startsWith("a DataSource")) {
                where = describe(connection);
            }
            try {
                Schema.prepare(connection, where);
                prepared = true;
            } catch (SQLException e) {
                pool.discard(connection);
                throw failure("prepare Autocert's tables", e);
            } catch (IOException | RuntimeException e) {
                pool.discard(connection);
                throw e;
            }
            pool.release(connection);
            LOG.debug("Opened the store at {}", where);
        }
    }

    @Override
    public Optional<byte[]> load(String key) throws IOException {
        requireOpen();
        Storage.checkKey(key);
        return withConnection("load " + key, connection -> Entries.load(connection, key));
    }

    @Override
    public void store(String key, byte[] value) throws IOException {
        requireOpen();
        Storage.checkKey(key);
        requireNonNull(value, "value");
        inTransaction("store " + key, connection -> store(connection, key, value));
    }

    @Override
    public void store(String key, byte[] value, Lock guard) throws IOException {
        requireOpen();
        Storage.checkKey(key);
        requireNonNull(value, "value");
        AdvisoryLock lock = ownLock(guard);
        if (lock == null) {
            Storage.super.store(key, value, guard);
            return;
        }
        lock.fenced("store " + key, connection -> store(connection, key, value));
    }

    private static Void store(Connection connection, String key, byte[] value) throws SQLException {
        long counter = Entries.bump(connection);
        Entries.upsert(connection, key, value);
        Entries.notify(connection, counter);
        return null;
    }

    @Override
    public void storeSet(String prefix, Map<String, byte[]> values) throws IOException {
        requireOpen();
        checkSet(prefix, values);
        inTransaction("store the set " + prefix, connection -> storeSet(connection, prefix, values));
    }

    @Override
    public void storeSet(String prefix, Map<String, byte[]> values, Lock guard) throws IOException {
        requireOpen();
        checkSet(prefix, values);
        AdvisoryLock lock = ownLock(guard);
        if (lock == null) {
            Storage.super.storeSet(prefix, values, guard);
            return;
        }
        lock.fenced("store the set " + prefix, connection -> storeSet(connection, prefix, values));
    }

    private static Void storeSet(Connection connection, String prefix, Map<String, byte[]> values) throws SQLException {
        long counter = Entries.bump(connection);
        Entries.replaceSet(connection, prefix, values);
        Entries.notify(connection, counter);
        return null;
    }

    private static void checkSet(String prefix, Map<String, byte[]> values) {
        Storage.checkKey(prefix);
        requireNonNull(values, "values");
        values.forEach((name, value) -> {
            requireNonNull(value, "value of " + name);
            if (name.indexOf('/') >= 0) {
                throw new IllegalArgumentException("A set's names are single segments: " + name);
            }
            Storage.checkKey(prefix + "/" + name);
        });
    }

    @Override
    public boolean delete(String key) throws IOException {
        requireOpen();
        Storage.checkKey(key);
        return inTransaction("delete " + key, connection -> {
            long counter = Entries.bump(connection); // first, as every write: one lock order
            if (!Entries.delete(connection, key)) {
                connection.rollback(); // nothing changed: the counter stays
                return false;
            }
            Entries.notify(connection, counter);
            return true;
        });
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        requireOpen();
        Storage.checkKey(prefix);
        return withConnection("list " + prefix, connection -> Entries.list(connection, prefix));
    }

    /** {@return the change counter of {@code autocert_changes}, which every write moves} */
    @Override
    public Optional<String> changeMarker() throws IOException {
        requireOpen();
        return Optional.of(Long.toString(withConnection("read the change counter", Entries::marker)));
    }

    /**
     * Runs {@code onChange} on a daemon thread after every change by any node (this one included),
     * through {@code LISTEN autocert_changes} on a connection of its own; also once after that
     * connection was lost and made again, since changes may have been missed. Returns at once.
     */
    @Override
    public void watch(Runnable onChange) throws IOException {
        requireOpen();
        requireNonNull(onChange, "onChange");
        open();
        synchronized (this) {
            requireOpen();
            if (listener == null) {
                listener = new ChangeListener(pool, where);
                listener.add(onChange);
                listener.start();
            } else {
                listener.add(onChange);
            }
        }
    }

    /**
     * Takes the advisory lock {@code name} if no session holds it, on a connection kept for the
     * lock's life. Another thread of this process, or another {@code PostgresStorage}, gets empty
     * while it is held, as another process does.
     *
     * @param lease not used: the lock lasts as long as its session, which ends when this process
     *     dies or, when its host vanishes, after about 30 s of TCP keepalive probes
     */
    @Override
    public Optional<Lock> tryLock(String name, Duration lease) throws IOException {
        requireOpen();
        requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("A lock's name is empty");
        }
        open();
        long key = LockKeys.forLock(name);
        Connection connection;
        try {
            connection = pool.acquire();
        } catch (SQLException e) {
            requireOpen();
            throw failure("take the lock " + name, e);
        }
        int backend;
        try {
            backend = AdvisoryLock.tryTake(connection, key);
        } catch (SQLException e) {
            pool.discard(connection); // it may hold the lock: end the session
            throw failure("take the lock " + name, e);
        }
        if (backend < 0) {
            pool.releaseSession(connection); // it holds no lock, but has its keepalives set
            return Optional.empty();
        }
        AdvisoryLock lock = new AdvisoryLock(this, pool, name, key, connection, backend);
        locks.add(lock);
        if (closed) {
            lock.close();
            requireOpen();
        }
        LOG.debug("Took the lock {} at {} (backend {})", name, where, backend);
        return Optional.of(lock);
    }

    /**
     * Stops {@link #watch}'s thread (within about a second), releases the locks still held and
     * closes every connection. Closing twice does nothing. Every method but this one and
     * {@link #toString()} then throws an {@link IOException} saying that the store is closed; the
     * store cannot be opened again.
     */
    @Override
    public void close() {
        ChangeListener stopping;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            stopping = listener;
            listener = null;
        }
        if (stopping != null) {
            try {
                stopping.close();
            } catch (RuntimeException e) {
                LOG.warn("Could not stop listening for changes at {}", where, e);
            }
        }
        for (AdvisoryLock lock : new ArrayList<>(locks)) {
            lock.closeWithStore();
        }
        pool.close();
        LOG.debug("Closed the store at {}", where);
    }

    /** {@return the URL without secrets and the user} */
    @Override
    public String toString() {
        return "PostgresStorage{" + where + "}";
    }

    // ---------------------------------------------------------------- for the package

    /** {@return the URL without secrets and the user, for messages} */
    String where() {
        return where;
    }

    /** {@return the thread of {@link #watch}, or null before the first call and after {@link #close()}} */
    synchronized ChangeListener listener() {
        return listener;
    }

    void forget(AdvisoryLock lock) {
        locks.remove(lock);
    }

    /** {@return an IOException saying what failed where, with the driver's message (which holds no password)} */
    IOException failure(String what, SQLException e) {
        return new IOException("Could not " + what + " in PostgreSQL at " + where + ": " + e.getMessage(), e);
    }

    /** Whether {@code e} means the connection is unusable: a connection error, a shut-down server, or closed. */
    static boolean isBroken(Connection connection, SQLException e) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
            return true;
        }
        try {
            return connection.isClosed();
        } catch (SQLException closedCheck) {
            return true;
        }
    }

    // ---------------------------------------------------------------- internals

    /**
     * {@return {@code guard} when this store took it, so a fenced write can run on its session; null
     * for another store's lock, which gets the default: a check, then an ordinary write}
     */
    private AdvisoryLock ownLock(Lock guard) {
        requireNonNull(guard, "guard");
        return guard instanceof AdvisoryLock lock && lock.owner() == this ? lock : null;
    }

    private <T> T withConnection(String what, SqlWork<T> work) throws IOException {
        open();
        Connection connection;
        try {
            connection = pool.acquire();
        } catch (SQLException e) {
            requireOpen(); // closed meanwhile: say so
            throw failure(what, e);
        }
        try {
            T result = work.run(connection);
            pool.release(connection);
            return result;
        } catch (SQLException e) {
            pool.discard(connection);
            throw failure(what, e);
        } catch (RuntimeException e) {
            pool.discard(connection);
            throw e;
        }
    }

    private <T> T inTransaction(String what, SqlWork<T> work) throws IOException {
        return withConnection(what, connection -> {
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException rollbackFailed) {
                    e.addSuppressed(rollbackFailed);
                }
                throw e;
            } finally {
                if (!connection.isClosed()) {
                    connection.setAutoCommit(true);
                }
            }
        });
    }

    /** @throws IOException saying that the store is closed, once {@link #close()} was called */
    void requireOpen() throws IOException {
        if (closed) {
            throw new IOException("The store is closed: PostgreSQL at " + where + " (a closed store cannot be opened again)");
        }
    }

    private static String describe(Connection connection) {
        try {
            return dev.autocert.core.StorageSettings.redact(connection.getMetaData().getURL())
                    + " (user " + connection.getMetaData().getUserName() + ")";
        } catch (SQLException e) {
            return "a DataSource";
        }
    }
}
