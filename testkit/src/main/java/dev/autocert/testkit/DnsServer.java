package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * A real authoritative DNS server run on a free loopback port for tests of DNS-01: {@link
 * BindServer}, {@link KnotServer} or {@link PowerDnsServer}.
 *
 * <p>Each serves its zones ({@code example.test} unless the builder names others), each with an
 * SOA, {@code NS ns1.ZONE.} and {@code A 127.0.0.1} for {@code ns1}, the apex and {@code *}, and
 * takes RFC 2136 updates of TXT records signed with a TSIG key ({@link #keyName()}, {@link
 * #secret()}, {@link #algorithm()}, always {@code hmac-sha256}) made fresh at every start. {@link
 * #addRecord} and friends change any record directly, for example a CNAME on
 * {@code _acme-challenge} for delegation tests; {@link #query} and {@link #txt} read what the
 * server answers.
 *
 * <p>In a JUnit 5 test class, register it on a static field; it starts before the class's tests
 * and stops after them, and a test method or constructor can take it as a parameter of its own
 * type. Pebble validates through it with {@link PebbleServer.Builder#dnsServer}:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final BindServer BIND = BindServer.builder().build();
 *
 * @RegisterExtension
 * static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(BIND.address()).build();
 * }</pre>
 *
 * <p>A server is {@link AutoCloseable}: as an argument of a {@code @ParameterizedTest}, set
 * {@code autoCloseArguments = false}, or JUnit stops it after the first invocation.
 *
 * <p>The port is chosen when the server is built, so its {@link #address()} can configure other
 * servers before it starts; it stays the same across starts. Until the server takes it, the test
 * kit holds it (TCP and UDP), so that no other socket of this JVM or of another process is given
 * it meanwhile. Should the server still find it taken, the start is tried again: on a new port
 * when nobody has asked for {@link #address()} or {@link #port()} yet, else on the same one once
 * it is free. Every start uses a fresh temporary
 * directory (configuration, zone files, journals, the log), deleted at stop. The server listens on
 * {@code 127.0.0.1} only and is stopped by its process id, also by a JVM shutdown hook.
 *
 * <p>When a program is missing, {@link #start()} fails with the command that installs it; tests
 * are never skipped silently. Instances are thread-safe.
 */
public abstract sealed class DnsServer extends ServerExtension
        permits BindServer, KnotServer, PowerDnsServer {

    private static final Logger LOG = LoggerFactory.getLogger(DnsServer.class);

    /** How long a start may take, from launching the program to every zone answering. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    /** How often a start that found its port taken is tried. */
    private static final int BIND_ATTEMPTS = 3;
    private static final Duration BIND_RETRY_PAUSE = Duration.ofMillis(500);

    /** How long a key change may take to be in effect. */
    private static final Duration KEY_CHANGE_TIMEOUT = Duration.ofSeconds(10);

    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(2);
    private static final long POLL_MILLIS = 50;

    /** The name of the key the test kit's own changes are signed with; it may change any record. */
    static final String ADMIN_KEY_NAME = "autocert-testkit-admin";

    private final String product;
    private final List<String> zones;
    private final String keyName;
    private int port;
    /** Whether {@link #port} was handed out, so it must stay as it is. */
    private boolean portShared;
    /** The sockets holding {@link #port} while the server does not; null while it does. */
    private List<AutoCloseable> reservation;

    // State of the current run; null while stopped.
    private Path workDirectory;
    private ProcessRunner process;
    private TsigKey key;
    private TsigKey adminKey;


    DnsServer(String product, List<String> zones, String keyName) {
        this.product = product;
        this.zones = List.copyOf(zones);
        this.keyName = keyName;
        this.port = reserveNewPort();
    }

    // ---------------------------------------------------------------- what each server does

    /** Finds the server's programs. @throws IllegalStateException with the install command when missing */
    abstract void requirePrograms();

    /** Makes a new TSIG key with the server's own tool, in {@code directory}. */
    abstract TsigKey newKey(Path directory, String name);

    /**
     * Writes the configuration and zones into {@code directory} and starts the server.
     *
     * @param key the key RFC 2136 clients sign with (TXT only), or null when the server takes none
     * @param adminKey the key of the test kit's own changes (any type), or null
     */
    abstract ProcessRunner launch(Path directory, int port, TsigKey key, TsigKey adminKey) throws IOException;

    /** Runs once the process has started, before the zones are awaited; PowerDNS creates them here. */
    void prepare(Path directory, long deadline) {
    }

    /** Makes the server accept {@code next} instead of {@code previous}, both named {@link #keyName()}. */
    abstract void replaceKey(Path directory, ProcessRunner process, TsigKey next);

    /** Whether this server takes RFC 2136 updates at all. */
    boolean takesUpdates() {
        return true;
    }

    /**
     * Changes one record set: adds {@code added} and removes {@code removed} (records in dnsjava's
     * form, all of one name and type). By default an RFC 2136 update signed with the admin key.
     */
    void change(Name zone, List<Record> added, List<Record> removed) {
        Update update = new Update(zone);
        added.forEach(update::add);
        removed.forEach(update::delete);
        Message answer = send(update, adminKey);
        if (answer.getRcode() != Rcode.NOERROR) {
            throw new IllegalStateException(product + " refused the test kit's update in " + zone + ": "
                    + Rcode.string(answer.getRcode()) + tail());
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Starts the server and waits until every zone answers.
     *
     * <p>Does nothing when already running. Takes well under two seconds; fails after 20 seconds
     * at most.
     *
     * @throws IllegalStateException if a program is not installed (the message gives the install
     *     command), cannot start, or exits early (the message quotes its last output lines)
     */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        if (process != null) {
            LOG.warn("{} had exited by itself; cleaning up before starting it again", product);
            stop();
        }
        requirePrograms();
        for (int attempt = 1; ; attempt++) {
            try {
                startOnce();
                portShared = true; // in use now, and seen in logs: it stays the same across starts
                return;
            } catch (IllegalStateException e) {
                if (attempt >= BIND_ATTEMPTS || !portTaken(e)) {
                    throw e;
                }
                if (portShared) {
                    LOG.warn("{} found port {} taken; trying it again", product, port);
                    pauseFor(BIND_RETRY_PAUSE);
                    reserve(port); // best effort: held again until the next try
                } else {
                    int taken = port;
                    port = reserveNewPort();
                    LOG.warn("{} found port {} taken; trying port {}", product, taken, port);
                }
            }
        }
    }

    /**
     * Whether a start failed because another socket had the port, as each server says it: "address
     * (already) in use", BIND's "unable to listen on any configured interfaces", or a failed bind.
     */
    private static boolean portTaken(IllegalStateException e) {
        String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return message.contains("address in use") || message.contains("address already in use")
                || message.contains("unable to listen on any configured interfaces")
                || message.contains("unable to bind") || message.contains("cannot bind") || message.contains("failed to bind");
    }

    private void startOnce() {
        Path directory = createWorkDirectory();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            workDirectory = directory;
            if (takesUpdates()) {
                key = newKey(directory, keyName);
                adminKey = newKey(directory, ADMIN_KEY_NAME);
            }
            release(); // the server binds it now
            process = launch(directory, port, key, adminKey);
            awaitListening(deadline);
            prepare(directory, deadline);
            for (String zone : zones) {
                awaitZone(zone, deadline);
            }
        } catch (IOException e) {
            abortStart();
            throw new IllegalStateException("Could not start " + product + ": " + e.getMessage() + tail(), e);
        } catch (RuntimeException e) {
            abortStart();
            throw e;
        }
        addShutdownHook(product.toLowerCase(Locale.ROOT));
        LOG.info("{} started on {}, zones {}", product, address(), zones);
    }

    /**
     * Stops the server, waits until it has exited, and deletes its working directory.
     *
     * <p>Does nothing when not running. The server can be started again, on the same port, with
     * its zones as new and a new key.
     */
    public synchronized void stop() {
        if (process != null) {
            process.stop(STOP_GRACE);
            process = null;
            reserve(port); // held again until the next start, best effort
        }
        key = null;
        adminKey = null;
        if (workDirectory != null) {
            deleteRecursively(workDirectory);
            workDirectory = null;
            LOG.info("{} stopped", product);
        }
        removeShutdownHook();
    }

    /** Stops the server; same as {@link #stop()}. */
    /** {@return whether the server is running: after {@link #start()} until {@link #stop()}, unless it exited by itself} */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    // ---------------------------------------------------------------- where and how to reach it

    /** {@return {@code 127.0.0.1} and the DNS port (UDP and TCP); known from construction on, and fixed from this call on} */
    public synchronized InetSocketAddress address() {
        portShared = true;
        return new InetSocketAddress(FreePorts.LOOPBACK, port);
    }

    /** {@return the DNS port (UDP and TCP) on {@code 127.0.0.1}; known from construction on, and fixed from this call on} */
    public synchronized int port() {
        portShared = true;
        return port;
    }

    /** {@return the DNS port, for the servers' own configuration: it may still change before a start} */
    synchronized int currentPort() {
        return port;
    }

    /** {@return the zones served, lower case, without the final dot; {@code example.test} by default} */
    public List<String> zones() {
        return zones;
    }

    /** {@return the first of {@link #zones()}} */
    public String zone() {
        return zones.get(0);
    }

    /**
     * {@return the name of the TSIG key RFC 2136 updates are signed with, without a final dot;
     * {@code acme-key} unless the builder named another}
     */
    public String keyName() {
        return requireKey().name();
    }

    /** {@return the TSIG key's secret, base64, as {@code tsig-keygen} prints it; new at every start and {@link #rotateKey()}} */
    public synchronized String secret() {
        return requireKey().secret();
    }

    /** {@return the TSIG key's algorithm: {@code hmac-sha256}} */
    public String algorithm() {
        return requireKey().algorithm();
    }

    /**
     * Returns a Certbot {@code dns-rfc2136} credentials file's contents for this server and its
     * current key: {@code dns_rfc2136_server}, {@code _port}, {@code _name}, {@code _secret} and
     * {@code _algorithm}. Write it with mode 0600; read {@link #secret()} anew after
     * {@link #rotateKey()}.
     *
     * @return the INI text
     */
    public synchronized String rfc2136Credentials() {
        TsigKey current = requireKey();
        return "dns_rfc2136_server = " + FreePorts.LOOPBACK.getHostAddress() + "\n"
                + "dns_rfc2136_port = " + port + "\n"
                + "dns_rfc2136_name = " + current.name() + "\n"
                + "dns_rfc2136_secret = " + current.secret() + "\n"
                + "dns_rfc2136_algorithm = " + current.algorithm().toUpperCase(Locale.ROOT) + "\n";
    }

    /**
     * Replaces the TSIG key's secret, as an operator rotating it would: from when this returns,
     * the server accepts updates signed with the new {@link #secret()} only.
     *
     * @throws IllegalStateException if the server is not running or the new key is not in effect
     *     within 10 seconds
     */
    public synchronized void rotateKey() {
        requireRunning();
        TsigKey previous = requireKey();
        TsigKey next = newKey(workDirectory, previous.name());
        replaceKey(workDirectory, process, next);
        key = next;
        long deadline = System.nanoTime() + KEY_CHANGE_TIMEOUT.toNanos();
        // The server answers a message signed with a key it does not know with BADKEY or BADSIG,
        // unsigned; once the new key is in effect, the answer is signed and verifies.
        while (!signedQueryVerifies(next)) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(product + " did not accept the rotated key within "
                        + KEY_CHANGE_TIMEOUT.toSeconds() + " s" + tail());
            }
            pause();
        }
        LOG.info("{} now accepts a new secret for the key {}", product, next.name());
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
            return Files.readAllLines(workDirectory.resolve(logFileName()));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read the log of " + product, e);
        }
    }

    // ---------------------------------------------------------------- records

    /**
     * Adds a record directly, bypassing the update policy RFC 2136 clients are held to, for
     * example a CNAME that delegates {@code _acme-challenge}.
     *
     * @param name the owner name, absolute or relative to nothing ({@code _acme-challenge.example.test});
     *     it must be in one of {@link #zones()}
     * @param type the type, such as {@code TXT}, {@code CNAME}, {@code A}
     * @param data the data in master file syntax; names in it without a final dot are relative to
     *     the zone ({@code "some value"}, {@code target.other.test.}, {@code 127.0.0.1})
     * @throws IllegalArgumentException if the name is in none of the zones or the data does not parse
     * @throws IllegalStateException if the server is not running or refuses the change
     */
    public synchronized void addRecord(String name, String type, String data) {
        Name zone = zoneOf(name);
        change(zone, List.of(record(zone, name, type, data)), List.of());
    }

    /**
     * Removes one record directly; others of the same name and type stay. Removing one that is
     * not there changes nothing.
     *
     * @param name the owner name
     * @param type the type
     * @param data the data, as given to {@link #addRecord}
     */
    public synchronized void removeRecord(String name, String type, String data) {
        Name zone = zoneOf(name);
        change(zone, List.of(), List.of(record(zone, name, type, data)));
    }

    /**
     * Removes every record of one name and type directly.
     *
     * @param name the owner name
     * @param type the type
     */
    public synchronized void removeRecords(String name, String type) {
        Name zone = zoneOf(name);
        List<Record> existing = answers(name, type);
        if (!existing.isEmpty()) {
            change(zone, List.of(), existing);
        }
    }

    /**
     * Asks the server for records, without recursion, as Pebble and propagation checks do.
     *
     * @param name the name
     * @param type the type, such as {@code TXT} or {@code CNAME}
     * @return each answer's data in master file syntax, as dnsjava writes it (absolute names; TXT
     *     strings quoted only when they need it, so {@link #txt} suits TXT records better); empty
     *     when there is none
     * @throws IllegalStateException if the server does not answer
     */
    public List<String> query(String name, String type) {
        return answers(name, type).stream().map(Record::rdataToString).toList();
    }

    /**
     * Returns the TXT values at a name, unquoted, as a CA sees them.
     *
     * @param name the name, such as {@code _acme-challenge.example.test}
     * @return the values, each one's strings joined; empty when there is none
     */
    public List<String> txt(String name) {
        return answers(name, "TXT").stream()
                .map(record -> String.join("", ((TXTRecord) record).getStrings()))
                .toList();
    }

    /** {@return the product, address and zones; never a secret} */
    @Override
    public String toString() {
        return getClass().getSimpleName() + "{" + address().getAddress().getHostAddress() + ":" + port + ", zones " + zones + "}";
    }

    // ---------------------------------------------------------------- for the servers

    /** {@return the name of the log file in the working directory} */
    String logFileName() {
        return product.toLowerCase(Locale.ROOT).replace(' ', '-') + ".log";
    }

    /** Starts the server's program, logging to {@link #logFileName()}. */
    ProcessRunner startProcess(Path directory, List<String> command) throws IOException {
        return ProcessRunner.start(product, command, java.util.Map.of(), List.of(), directory,
                directory.resolve(logFileName()));
    }

    /** {@return the server's last output lines, for error messages} */
    String tail() {
        ProcessRunner running = process;
        return System.lineSeparator() + "--- last output of " + product + (running == null ? "" : " (" + running.status() + ")")
                + " ---" + System.lineSeparator() + (running == null ? "(not started)" : running.tail());
    }

    /** Fails when the program has exited. */
    void failIfExited(String waitingFor) {
        if (process != null && !process.isAlive()) {
            throw new IllegalStateException(product + " did not start: it " + process.status() + " before " + waitingFor + tail());
        }
    }

    static void pause() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for a DNS server", e);
        }
    }

    /**
     * Checks and normalises the zone names a builder was given.
     *
     * @return the zones, lower case, without a final dot, in the order given
     * @throws IllegalArgumentException if none is given, one is not a DNS name, or one repeats
     */
    static List<String> zoneNames(String... zones) {
        Objects.requireNonNull(zones, "zones");
        if (zones.length == 0) {
            throw new IllegalArgumentException("At least one zone is needed");
        }
        List<String> names = new ArrayList<>();
        for (String zone : zones) {
            Name absolute = absoluteName(zone);
            if (absolute.labels() < 2) {
                throw new IllegalArgumentException("The root zone cannot be served: " + zone);
            }
            String name = absolute.toString(true).toLowerCase(Locale.ROOT);
            if (names.contains(name)) {
                throw new IllegalArgumentException("Zone named twice: " + zone);
            }
            names.add(name);
        }
        return List.copyOf(names);
    }

    /**
     * Checks a TSIG key name a builder was given.
     *
     * @return the name without a final dot
     */
    static String checkKeyName(String name) {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*\\.?") || name.startsWith(ADMIN_KEY_NAME)) {
            throw new IllegalArgumentException("Not a usable TSIG key name (letters, digits, '.', '-', '_'): " + name);
        }
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    static Name absoluteName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name is blank");
        }
        try {
            return Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            throw new IllegalArgumentException("Not a DNS name: " + name, e);
        }
    }

    // ---------------------------------------------------------------- internals

    private TsigKey requireKey() {
        synchronized (this) {
            if (!takesUpdates()) {
                throw new IllegalStateException(product + " runs without RFC 2136 updates, so it has no TSIG key; "
                        + "enable them with PowerDnsServer.builder().rfc2136()");
            }
            if (key == null) {
                throw new IllegalStateException(product + " is not running; its TSIG key is made at start()");
            }
            return key;
        }
    }

    private void requireRunning() {
        if (!isRunning()) {
            throw new IllegalStateException(process == null ? product + " is not running; call start() first"
                    : product + " has exited by itself" + tail());
        }
    }

    private void abortStart() {
        if (process != null) {
            process.stop(STOP_GRACE);
        }
        process = null;
        key = null;
        adminKey = null;
        deleteRecursively(workDirectory);
        workDirectory = null;
    }

    /** Picks a free port and holds it; {@return the port} */
    private int reserveNewPort() {
        for (int attempt = 1; ; attempt++) {
            int candidate = FreePorts.pick(1, java.util.Set.of(), 1).get(0);
            if (reserve(candidate) || attempt >= BIND_ATTEMPTS) {
                return candidate;
            }
        }
    }

    /** Holds {@code candidate} (TCP and UDP on 127.0.0.1) until {@link #release()}; {@return whether both could be bound} */
    private boolean reserve(int candidate) {
        release();
        List<AutoCloseable> held = new ArrayList<>();
        try {
            held.add(new ServerSocket(candidate, 1, FreePorts.LOOPBACK));
            held.add(new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, candidate)));
            reservation = held;
            return true;
        } catch (IOException e) {
            held.forEach(DnsServer::closeQuietly);
            return false;
        }
    }

    private void release() {
        if (reservation != null) {
            reservation.forEach(DnsServer::closeQuietly);
            reservation = null;
        }
    }

    private static void closeQuietly(AutoCloseable socket) {
        try {
            socket.close();
        } catch (Exception e) {
            // it only held a port number
        }
    }

    private static void pauseFor(Duration pause) {
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for a DNS server's port", e);
        }
    }

    private void awaitListening(long deadline) {
        while (!FreePorts.isListening(port)) {
            failIfExited("port " + port + " accepted connections");
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(product + " did not start: nothing listened on 127.0.0.1:" + port + " within "
                        + START_TIMEOUT.toSeconds() + " s" + tail());
            }
            pause();
        }
    }

    private void awaitZone(String zone, long deadline) {
        Name name = absoluteName(zone);
        Message question = Message.newQuery(Record.newRecord(name, Type.SOA, DClass.IN));
        while (true) {
            failIfExited("the zone " + zone + " was served");
            try {
                Message answer = resolver(null).send(question);
                if (answer.getRcode() == Rcode.NOERROR && !answer.getSection(Section.ANSWER).isEmpty()) {
                    return;
                }
            } catch (IOException e) {
                // Not answering yet.
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(product + " did not serve the zone " + zone + " within "
                        + START_TIMEOUT.toSeconds() + " s" + tail());
            }
            pause();
        }
    }

    private boolean signedQueryVerifies(TsigKey candidate) {
        // An empty update: every server checks its signature and signs the answer, and it changes nothing.
        Message probe = new Update(absoluteName(zone()));
        try {
            Message answer = resolver(candidate).send(probe);
            return answer.getRcode() == Rcode.NOERROR && answer.isVerified();
        } catch (IOException e) {
            return false;
        }
    }

    private Message send(Message message, TsigKey signer) {
        try {
            return resolver(signer).send(message);
        } catch (IOException e) {
            throw new IllegalStateException(product + " did not answer on " + address() + ": " + e.getMessage() + tail(), e);
        }
    }

    private SimpleResolver resolver(TsigKey signer) {
        SimpleResolver resolver = new SimpleResolver(address());
        resolver.setTimeout(QUERY_TIMEOUT);
        resolver.setTCP(true);
        if (signer != null) {
            resolver.setTSIGKey(signer.tsig());
        }
        return resolver;
    }

    /** The records the server answers for a name and type, without recursion. */
    List<Record> answers(String name, String type) {
        Name owner = absoluteName(name);
        int code = type(type);
        Message question = Message.newQuery(Record.newRecord(owner, code, DClass.IN));
        question.getHeader().unsetFlag(org.xbill.DNS.Flags.RD);
        Message answer = send(question, null);
        if (answer.getRcode() != Rcode.NOERROR && answer.getRcode() != Rcode.NXDOMAIN) {
            throw new IllegalStateException(product + " answered " + Rcode.string(answer.getRcode()) + " for " + type + " " + name);
        }
        List<Record> records = new ArrayList<>();
        for (Record record : answer.getSection(Section.ANSWER)) {
            if (record.getType() == code && record.getName().equals(owner)) {
                records.add(record);
            }
        }
        return records;
    }

    private Name zoneOf(String name) {
        Name owner = absoluteName(name);
        return zones.stream()
                .map(DnsServer::absoluteName)
                .filter(owner::subdomain)
                .max(Comparator.comparingInt(Name::labels))
                .orElseThrow(() -> new IllegalArgumentException(name + " is in none of the zones " + zones + " of " + product));
    }

    private static Record record(Name zone, String name, String type, String data) {
        Objects.requireNonNull(data, "data");
        try {
            return Record.fromString(absoluteName(name), type(type), DClass.IN, ZoneFile.TTL, data, zone);
        } catch (IOException e) {
            throw new IllegalArgumentException("Not valid " + type + " data: " + data + " (" + e.getMessage() + ")", e);
        }
    }

    private static int type(String type) {
        Objects.requireNonNull(type, "type");
        int code = Type.value(type.toUpperCase(Locale.ROOT));
        if (code < 0) {
            throw new IllegalArgumentException("Not a DNS record type: " + type);
        }
        return code;
    }

    private Path createWorkDirectory() {
        try {
            return Files.createTempDirectory("autocert-" + product.toLowerCase(Locale.ROOT).replace(' ', '-') + "-");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a temporary directory for " + product, e);
        }
    }

    private void deleteRecursively(Path directory) {
        if (directory == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            LOG.warn("Could not delete the temporary directory {} of {}", directory, product, e);
        }
    }
}
