package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a throwaway PostgreSQL server on a free loopback port, for tests of
 * {@code autocert-store-jdbc} and of clusters sharing one store.
 *
 * <p>Every start makes a new cluster ({@code initdb}) in a fresh temporary directory, with one
 * superuser, {@link #username()} ({@code autocert} unless the builder names another), whose
 * {@link #password()} is random, and one database, {@code autocert}. TCP clients authenticate
 * with {@code scram-sha-256}; the test kit's own {@link #execute} goes through the Unix socket in
 * the private directory. {@code fsync} is off: the data does not survive a crash, and need not.
 * Start-up takes about three seconds (mostly {@code initdb}).
 *
 * <pre>{@code
 * @RegisterExtension
 * static final PostgresServer PG = PostgresServer.builder().build();
 *
 * @Test
 * void stores() {
 *     String url = PG.jdbcUrl(PG.newDatabase());   // jdbc:postgresql://127.0.0.1:PORT/autocert_1
 *     ... PG.username(), PG.password() ...
 * }
 * }</pre>
 *
 * <p>In a JUnit 5 test class, register it on a static field: it starts before the class's tests
 * and stops after them, and a test method or constructor can take it as a parameter. Outside
 * JUnit, call {@link #start()} and {@link #close()}. The server listens on {@code 127.0.0.1}
 * only and is stopped with {@code pg_ctl stop -m fast} (open sessions are ended), also by a JVM
 * shutdown hook.
 *
 * <p>Requirements: PostgreSQL's server programs under {@code /usr/lib/postgresql/VERSION/bin}; on
 * Debian and Ubuntu {@code sudo apt-get install -y postgresql}. {@code initdb} refuses to run as
 * root, so as root the programs run as the user {@code postgres} (through {@code runuser}), which
 * the package creates. When they are missing, {@link #start()} fails with the install command;
 * tests are never skipped silently. Instances are thread-safe.
 */
public final class PostgresServer extends ServerExtension {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresServer.class);

    /** The Debian package that provides the programs. */
    static final String PACKAGES = "postgresql";

    private static final String PURPOSE = "PostgreSQL for tests of the JDBC store";
    private static final Path INSTALL_ROOT = Path.of("/usr/lib/postgresql");
    /** The system user the programs run as when the JVM runs as root. */
    private static final String SYSTEM_USER = "postgres";

    /** The database every start creates; {@link #jdbcUrl()} names it. */
    public static final String DEFAULT_DATABASE = "autocert";

    /** How long a start may take, from {@code initdb} to accepting connections. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    /** How long {@code initdb}, {@code pg_ctl stop} and {@code psql} may take. */
    private static final long RUN_TIMEOUT_SECONDS = 60;
    private static final long POLL_MILLIS = 50;
    private static final int BIND_ATTEMPTS = 3;

    private final String username;
    private final String password;
    private final AtomicInteger databases = new AtomicInteger();

    // State of the current run; null while stopped.
    private Path bin;
    private Path workDirectory;
    private ProcessRunner process;
    private int port;

    private PostgresServer(Builder builder) {
        this.username = builder.username;
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        this.password = HexFormat.of().formatHex(random);
    }

    /**
     * Returns a builder; by default the superuser is {@code autocert}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Creates a new cluster and starts the server; waits until it accepts connections.
     *
     * <p>Does nothing when already running.
     *
     * @throws IllegalStateException if PostgreSQL is not installed (the message gives the install
     *     command), cannot start, or does not accept connections within 60 seconds
     */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        if (process != null) {
            LOG.warn("PostgreSQL had exited by itself; cleaning up before starting it again");
            stop();
        }
        bin = requirePrograms();
        Path directory = createWorkDirectory();
        workDirectory = directory;
        try {
            initdb(directory);
            for (int attempt = 1; ; attempt++) {
                port = FreePorts.pick(1, Set.of(), 0).get(0);
                try {
                    launch(directory);
                    break;
                } catch (IllegalStateException e) {
                    String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
                    if (attempt >= BIND_ATTEMPTS || !message.contains("address already in use")) {
                        throw e;
                    }
                    LOG.warn("PostgreSQL found port {} taken; trying another", port);
                    process.stop(STOP_TIMEOUT);
                    process = null;
                }
            }
            execute("postgres", "CREATE DATABASE " + DEFAULT_DATABASE);
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
        addShutdownHook("postgres");
        LOG.info("PostgreSQL started on 127.0.0.1:{} (data in {})", port, directory);
    }

    /**
     * Stops the server (ending open sessions), waits until it has exited, and deletes its
     * directory with every database. Does nothing when not running; it can be started again,
     * with a new cluster.
     */
    public synchronized void stop() {
        if (process != null) {
            if (process.isAlive()) {
                try {
                    run(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDirectory().toString(), "-m", "fast", "-w",
                            "-t", Long.toString(STOP_TIMEOUT.toSeconds()), "stop"), null);
                } catch (IllegalStateException e) {
                    LOG.warn("pg_ctl stop failed; stopping PostgreSQL by its process id", e);
                }
            }
            process.stop(STOP_TIMEOUT);
            process = null;
        }
        if (workDirectory != null) {
            deleteRecursively(workDirectory);
            workDirectory = null;
            LOG.info("PostgreSQL stopped");
        }
        removeShutdownHook();
    }

    /** Stops the server; same as {@link #stop()}. */
    /** {@return whether the server is running: after {@link #start()} until {@link #stop()}, unless it exited by itself} */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    // ---------------------------------------------------------------- where and how to reach it

    /** {@return the port on {@code 127.0.0.1}; new at every start} */
    public synchronized int port() {
        requireRunning();
        return port;
    }

    /** {@return the JDBC URL of the database {@code autocert}, {@code jdbc:postgresql://127.0.0.1:PORT/autocert}} */
    public String jdbcUrl() {
        return jdbcUrl(DEFAULT_DATABASE);
    }

    /**
     * Returns the JDBC URL of a database of this server; it holds no credentials.
     *
     * @param database a database's name, such as one {@link #newDatabase()} returned
     * @return {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE}
     */
    public String jdbcUrl(String database) {
        Objects.requireNonNull(database, "database");
        return "jdbc:postgresql://" + FreePorts.LOOPBACK.getHostAddress() + ":" + port() + "/" + database;
    }

    /** {@return the superuser's name, {@code autocert} unless the builder named another} */
    public String username() {
        return username;
    }

    /** {@return the superuser's password: random, fixed at construction} */
    public String password() {
        return password;
    }

    /**
     * Creates a new, empty database, owned by the superuser, so that a test class (or a test)
     * works on its own data.
     *
     * @return its name, {@code autocert_1}, {@code autocert_2}, …
     * @throws IllegalStateException if the server is not running or refuses
     */
    public String newDatabase() {
        String name = DEFAULT_DATABASE + "_" + databases.incrementAndGet();
        execute("postgres", "CREATE DATABASE " + name);
        return name;
    }

    /**
     * Returns Autocert's settings for a store in {@code database}, by their names without the
     * {@code autocert.} prefix, for {@code AutocertSettings.Builder.set}: {@code storage} (the
     * JDBC URL), {@code storage-username} and {@code storage-password} (the superuser's).
     *
     * @param database a database's name
     * @return the three settings, in that order
     */
    public Map<String, String> settings(String database) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("storage", jdbcUrl(database));
        settings.put("storage-username", username);
        settings.put("storage-password", password);
        return settings;
    }

    /**
     * Runs SQL as the superuser with {@code psql}, statement by statement, stopping at the first
     * error; for what a test sets up, such as a role with fewer privileges
     * ({@code CREATE ROLE reader LOGIN PASSWORD 'x'}) or ending a session
     * ({@code SELECT pg_terminate_backend(PID)}).
     *
     * @param database the database to connect to
     * @param sql one or more statements, separated by {@code ;}
     * @return what the statements printed, unaligned and without headers: one line per row,
     *     columns separated by {@code |}
     * @throws IllegalStateException if the server is not running or a statement fails (the
     *     message quotes {@code psql}'s error)
     */
    public String execute(String database, String sql) {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(sql, "sql");
        Path psql;
        Path socketDirectory;
        int currentPort;
        synchronized (this) {
            requireRunning();
            psql = bin.resolve("psql");
            socketDirectory = workDirectory;
            currentPort = port;
        }
        // Through the Unix socket, which only this user (or root) can reach: no password needed.
        return run(List.of(psql.toString(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", socketDirectory.toString(), "-p", Integer.toString(currentPort), "-U", username, "-d", database,
                "-f", "-"), sql);
    }

    /**
     * Returns the lines the server has written since it started, for diagnosing a failed test.
     *
     * @return the log lines, oldest first
     * @throws IllegalStateException when the server is not running
     */
    public synchronized List<String> log() {
        requireRunning();
        try {
            return Files.readAllLines(workDirectory.resolve("postgres.log"));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read the log of PostgreSQL", e);
        }
    }

    /** {@return the address and user; never the password} */
    @Override
    public synchronized String toString() {
        return "PostgresServer{" + (process == null ? "stopped" : "127.0.0.1:" + port) + ", user " + username + "}";
    }

    // ---------------------------------------------------------------- internals

    /** Finds the newest installed version's programs. */
    private static Path requirePrograms() {
        List<Path> candidates = new ArrayList<>();
        if (Files.isDirectory(INSTALL_ROOT)) {
            try (Stream<Path> versions = Files.list(INSTALL_ROOT)) {
                versions.map(version -> version.resolve("bin"))
                        .filter(dir -> Files.isExecutable(dir.resolve("initdb")) && Files.isExecutable(dir.resolve("postgres")))
                        .forEach(candidates::add);
            } catch (IOException e) {
                throw new UncheckedIOException("Could not list " + INSTALL_ROOT, e);
            }
        }
        if (candidates.isEmpty()) {
            throw new IllegalStateException(INSTALL_ROOT + "/*/bin/initdb not found. The Autocert test kit runs " + PURPOSE
                    + ". Install it with: " + Programs.installCommand(PACKAGES) + " (Debian/Ubuntu)");
        }
        candidates.sort(Comparator.comparingInt(PostgresServer::majorVersion));
        Path bin = candidates.get(candidates.size() - 1);
        if (asRoot()) {
            Programs.require("runuser", "util-linux", "PostgreSQL's programs as the user postgres, since initdb refuses root");
        }
        return bin;
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static boolean asRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private Path dataDirectory() {
        return workDirectory.resolve("data");
    }

    private void initdb(Path directory) {
        Path passwordFile = directory.resolve("pw");
        try {
            Files.writeString(passwordFile, password + "\n", StandardCharsets.UTF_8);
            chown(passwordFile);
            run(List.of(bin.resolve("initdb").toString(), "-D", dataDirectory().toString(), "-U", username,
                    "--pwfile=" + passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-sync", "--no-instructions"), null);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write the password file for initdb", e);
        } finally {
            try {
                Files.deleteIfExists(passwordFile);
            } catch (IOException e) {
                // Deleted with the directory at stop.
            }
        }
    }

    private void launch(Path directory) {
        List<String> command = asUser(List.of(bin.resolve("postgres").toString(), "-D", dataDirectory().toString(),
                "-c", "listen_addresses=" + FreePorts.LOOPBACK.getHostAddress(), "-p", Integer.toString(port),
                "-c", "unix_socket_directories=" + directory,
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200", "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning"));
        try {
            process = ProcessRunner.start("postgres", command, Map.of(), List.of("PG"), directory,
                    directory.resolve("postgres.log"));
        } catch (IOException e) {
            throw new IllegalStateException("Could not start PostgreSQL: " + e.getMessage(), e);
        }
        awaitReady(System.nanoTime() + START_TIMEOUT.toNanos());
    }

    /** Waits until {@code postmaster.pid} says the server accepts connections, as {@code pg_ctl -w} does. */
    private void awaitReady(long deadline) {
        Path pidFile = dataDirectory().resolve("postmaster.pid");
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("PostgreSQL did not start: it " + process.status() + tail());
            }
            try {
                List<String> lines = Files.readAllLines(pidFile);
                if (lines.size() >= 8 && lines.get(7).strip().equals("ready") && FreePorts.isListening(port)) {
                    return;
                }
            } catch (IOException e) {
                // Not written yet.
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("PostgreSQL did not accept connections on 127.0.0.1:" + port + " within "
                        + START_TIMEOUT.toSeconds() + " s" + tail());
            }
            sleep(POLL_MILLIS);
        }
    }

    private String tail() {
        ProcessRunner running = process;
        return System.lineSeparator() + "--- last output of PostgreSQL" + (running == null ? "" : " (" + running.status() + ")")
                + " ---" + System.lineSeparator() + (running == null ? "(not started)" : running.tail());
    }

    private void requireRunning() {
        if (!isRunning()) {
            throw new IllegalStateException("PostgreSQL is not running: start it first (or register it as an extension)");
        }
    }

    /** {@code command}, run as {@code postgres} when this JVM runs as root. */
    private static List<String> asUser(List<String> command) {
        if (!asRoot()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", SYSTEM_USER, "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Runs a short program (as {@code postgres} when root) without inherited {@code PG*}
     * variables; {@return its standard output}. Standard error is quoted in the exception.
     */
    private String run(List<String> command, String input) {
        ProcessBuilder builder = new ProcessBuilder(asUser(command)).directory(workDirectory.toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("PG"));
        Path errors;
        try {
            errors = Files.createTempFile("autocert-pg-", ".stderr");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a temporary file", e);
        }
        builder.redirectError(errors.toFile());
        String program = Path.of(command.get(0)).getFileName().toString();
        try {
            Process running = builder.start();
            try (var stdin = running.getOutputStream()) {
                if (input != null) {
                    stdin.write(input.getBytes(StandardCharsets.UTF_8));
                }
            }
            byte[] output = running.getInputStream().readAllBytes();
            if (!running.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                running.destroyForcibly();
                throw new IllegalStateException(program + " did not finish within " + RUN_TIMEOUT_SECONDS + " s");
            }
            if (running.exitValue() != 0) {
                throw new IllegalStateException(program + " failed with code " + running.exitValue() + ": "
                        + Files.readString(errors, StandardCharsets.UTF_8).strip());
            }
            return new String(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("Could not run " + program + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running " + program, e);
        } finally {
            try {
                Files.deleteIfExists(errors);
            } catch (IOException e) {
                LOG.debug("Could not delete {}", errors, e);
            }
        }
    }

    /**
     * A fresh directory directly in the temporary directory, owned by {@code postgres} when root:
     * every parent must be traversable by that user, so it is not nested in another private one.
     */
    private static Path createWorkDirectory() {
        try {
            Path directory = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "autocert-pg-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            chown(directory);
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a directory for PostgreSQL", e);
        }
    }

    private static void chown(Path path) throws IOException {
        if (asRoot()) {
            UserPrincipal owner = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(SYSTEM_USER);
            Files.setOwner(path, owner);
        }
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            LOG.warn("Could not delete {}", directory, e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for PostgreSQL", e);
        }
    }

    /** Configures a {@link PostgresServer}; every setting is optional. */
    public static final class Builder {

        private String username = "autocert";

        private Builder() {
        }

        /**
         * Sets the superuser's name.
         *
         * @param username letters, digits and {@code _}, starting with a letter; {@code autocert} by default
         * @return this builder
         */
        public Builder username(String username) {
            Objects.requireNonNull(username, "username");
            if (!username.matches("[a-z][a-z0-9_]{0,62}")) {
                throw new IllegalArgumentException("Not a plain PostgreSQL role name (lower case letters, digits, '_'): "
                        + username);
            }
            this.username = username;
            return this;
        }

        /**
         * Creates the server, which is not started yet.
         *
         * @return a new server
         */
        public PostgresServer build() {
            return new PostgresServer(this);
        }
    }
}
