package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Pebble, Let's Encrypt's test ACME server, together with its mock DNS server on free
 * loopback ports, for tests and demos.
 *
 * <p>In a JUnit 5 test class, register it on a static field; Pebble then starts once before the
 * class's tests and stops after them, and test methods or constructors can take it as a
 * parameter:
 *
 * <pre>{@code
 * class IssuanceTest {
 *     @RegisterExtension
 *     static final PebbleServer PEBBLE = PebbleServer.builder().build();
 *
 *     @Test
 *     void issues(PebbleServer pebble) {
 *         URI directory = pebble.directoryUrl();        // https://localhost:<port>/dir
 *         Path caTrust = pebble.trustPem();             // trust for Pebble's own HTTPS listener
 *         int port = pebble.httpPort();                 // where HTTP-01 challenges are fetched
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>Outside JUnit, call {@link #start()} and {@link #close()} (or use try-with-resources);
 * {@link #main(String[])} runs Pebble from the command line.
 *
 * <p><b>Names.</b> Pebble resolves every name through {@code pebble-challtestsrv}, which answers
 * A queries with {@code 127.0.0.1} and AAAA queries with nothing. So any name, such as
 * {@code www.example.test}, validates against the application listening on
 * {@code 127.0.0.1:}{@link #httpPort()} (HTTP-01) or {@link #tlsPort()} (TLS-ALPN-01).
 * {@link #addA}, {@link #setTxt} and {@link #clearTxt} change the answers. With
 * {@link Builder#dnsServer}, Pebble resolves through a real DNS server of the test's own instead
 * ({@link BindServer}, {@link KnotServer}, {@link PowerDnsServer}).
 *
 * <p><b>Two kinds of trust.</b> {@link #trustPem()} and {@link #trustContext()} trust the small
 * authority made at start for Pebble's own HTTPS listeners; an ACME client needs it to talk to
 * Pebble. {@link #issuingRoots()} and {@link #issuingTrustStore()} hold the roots Pebble issues
 * certificates from; a TLS client needs them to accept a certificate Pebble issued. Pebble makes
 * new issuing roots at every start, and forgets all accounts and orders when it stops.
 *
 * <p><b>Settings.</b> Pebble runs with {@code PEBBLE_VA_NOSLEEP=1}, no rejected nonces and no
 * reused authorizations unless the {@link Builder} says otherwise; challenges are always really
 * validated ({@code PEBBLE_VA_ALWAYS_VALID} is never set, and inherited {@code PEBBLE_*}
 * variables are dropped).
 *
 * <p><b>Requirements.</b> The {@code pebble} and {@code pebble-challtestsrv} programs, found in
 * {@code /usr/bin} or on {@code PATH}; on Debian and Ubuntu: {@code sudo apt-get install -y pebble}.
 * When they are missing, {@link #start()} fails; tests are never skipped silently. The system
 * property {@code autocert.testkit.pebble} names another {@code pebble} executable.
 *
 * <p>Instances are thread-safe. The ports, the listener authority and {@link #directoryUrl()}
 * are chosen at the first start and stay the same for the instance's lifetime, across
 * {@link #restart()} and {@link #stop()}/{@link #start()}.
 */
public final class PebbleServer extends ServerExtension {

    private static final Logger LOG = LoggerFactory.getLogger(PebbleServer.class);

    private static final Pattern IPV4_LITERAL =
            Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    private final PebbleOptions options;

    // Chosen at the first start, kept for the lifetime of this instance.
    private PebbleCertificates certificates;
    private ManagementClient managementClient;
    private Ports ports;

    // State of the current run; null while stopped.
    private Path workDirectory;
    private Path trustPem;
    private PebbleProcesses processes;
    private List<X509Certificate> issuingRoots;
    private List<X509Certificate> intermediates;


    private PebbleServer(PebbleOptions options) {
        this.options = options;
    }

    /**
     * Returns a builder for a new server; every setting is optional.
     *
     * @return a builder with default settings
     */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Starts {@code pebble-challtestsrv} and Pebble and waits until both accept connections.
     *
     * <p>Does nothing when already running. Takes well under a second; fails after 10 seconds
     * at most.
     *
     * @throws IllegalStateException if a program is not installed (the message gives the install
     *     command), cannot start, or exits early (the message quotes its last output lines)
     */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        if (processes != null) {
            LOG.warn("Pebble had exited by itself; cleaning up before starting it again");
            stop();
        }
        PebbleBinaries binaries = options.current() && options.pebbleBinary() == null
                ? PebbleBinaries.locateCurrent() : PebbleBinaries.locate(options.pebbleBinary());
        if (certificates == null) {
            certificates = PebbleCertificates.generate();
            managementClient = new ManagementClient(certificates.trustContext());
        }
        if (ports == null) {
            ports = options.choosePorts();
        }
        Path directory = createWorkDirectory();
        try {
            launch(binaries, directory);
        } catch (RuntimeException e) {
            trustPem = null;
            deleteRecursively(directory);
            throw e;
        }
        workDirectory = directory;
        addShutdownHook("pebble");
        LOG.info("Pebble started: directory {}, HTTP-01 port {}, TLS-ALPN-01 port {}, DNS {}",
                directoryUrl(), ports.http(), ports.tls(), dnsAddress());
    }

    /**
     * Stops Pebble and starts it again on the same ports, as a CA that restarts would.
     *
     * <p>The listener certificate and {@link #trustPem()} stay the same, and the mock DNS server
     * keeps running with its records. Pebble comes back with new issuing roots and without the
     * accounts, orders and authorizations it had. Starts the server if it was not running.
     *
     * @throws IllegalStateException if the new start fails; the server is then stopped
     */
    public synchronized void restart() {
        if (!isRunning()) {
            start();
            return;
        }
        forgetIssuers();
        try {
            processes.restartPebble();
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
        LOG.info("Pebble restarted: directory {}", directoryUrl());
    }

    /**
     * Stops both programs, waits until they have exited, and deletes the working directory
     * (with {@link #trustPem()} and the log files).
     *
     * <p>Does nothing when not running. The server can be started again.
     */
    public synchronized void stop() {
        if (processes != null) {
            processes.stop();
            processes = null;
        }
        forgetIssuers();
        if (workDirectory != null) {
            deleteRecursively(workDirectory);
            workDirectory = null;
            trustPem = null;
            LOG.info("Pebble stopped");
        }
        removeShutdownHook();
    }

    /** Stops the server; same as {@link #stop()}. */
    /**
     * Tells whether Pebble and its DNS server are running.
     *
     * @return true after {@link #start()} until {@link #stop()}, unless a program exited by itself
     */
    public synchronized boolean isRunning() {
        return processes != null && processes.isAlive();
    }

    // ---------------------------------------------------------------- addresses and trust

    /**
     * Returns the URL of Pebble's ACME directory, {@code https://localhost:<port>/dir}.
     *
     * @return the directory URL; the same after a restart
     * @throws IllegalStateException if the server was never started
     */
    public URI directoryUrl() {
        return URI.create("https://localhost:" + ports().acme() + "/dir");
    }

    /**
     * The Autocert settings that point an application at this Pebble, as {@code autocert.*}
     * properties: {@code ca} (the directory), {@code ca-trust} (the listener's trust),
     * {@code http-port} (where Pebble validates HTTP-01) and {@code agree-tos}. Add
     * {@code autocert.domains} and {@code autocert.storage}, then hand them to
     * {@code AutocertSettings.builder().properties(…)}, a Spring {@code @DynamicPropertySource}, or
     * system properties. Valid only while the server runs.
     */
    public Map<String, String> autocertProperties() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("autocert.ca", directoryUrl().toString());
        properties.put("autocert.ca-trust", trustPem().toString());
        properties.put("autocert.http-port", Integer.toString(httpPort()));
        properties.put("autocert.agree-tos", "true");
        return Collections.unmodifiableMap(properties);
    }

    /**
     * Returns the PEM file with the authority that signed Pebble's HTTPS listener certificate.
     *
     * <p>This is what an ACME client needs as trust (Autocert's {@code ca-trust} setting) to talk
     * to {@link #directoryUrl()}. The file exists while the server runs and keeps its path and
     * content across {@link #restart()}.
     *
     * @return the PEM file
     * @throws IllegalStateException if the server is not running
     */
    public synchronized Path trustPem() {
        requireRunning();
        return trustPem;
    }

    /**
     * Returns an SSL context that trusts only the authority of Pebble's HTTPS listeners, for
     * talking to Pebble directly.
     *
     * @return the SSL context; the same for the instance's lifetime
     * @throws IllegalStateException if the server was never started
     */
    public synchronized SSLContext trustContext() {
        if (certificates == null) {
            throw notStarted();
        }
        return certificates.trustContext();
    }

    /**
     * Returns the port Pebble connects to on {@code 127.0.0.1} when it validates an HTTP-01
     * challenge: the application under test serves {@code /.well-known/acme-challenge/} there.
     *
     * @return the port set with {@link Builder#httpPort(int)}, or the free port picked at start
     * @throws IllegalStateException if the server was never started
     */
    public int httpPort() {
        return ports().http();
    }

    /**
     * Returns the port Pebble connects to on {@code 127.0.0.1} when it validates a TLS-ALPN-01
     * challenge.
     *
     * @return the port set with {@link Builder#tlsPort(int)}, or the free port picked at start
     * @throws IllegalStateException if the server was never started
     */
    public int tlsPort() {
        return ports().tls();
    }

    /**
     * Returns the port of Pebble's management listener (HTTPS, same trust as the directory),
     * which serves {@code /roots/0} and {@code /intermediates/0}.
     *
     * @return the port
     * @throws IllegalStateException if the server was never started
     */
    public int managementPort() {
        return ports().management();
    }

    /**
     * Returns the address of the DNS server Pebble resolves names with (UDP and TCP): its mock
     * DNS server, or the one given to {@link Builder#dnsServer}.
     *
     * @return {@code 127.0.0.1} and the DNS port, or the address given to the builder
     * @throws IllegalStateException if the server was never started and uses its mock DNS server
     */
    public InetSocketAddress dnsAddress() {
        if (options.dnsServer() != null) {
            return options.dnsServer();
        }
        return new InetSocketAddress(FreePorts.LOOPBACK, ports().dns());
    }

    // ---------------------------------------------------------------- issuing certificates

    /**
     * Returns the roots Pebble currently issues certificates from: {@code /roots/0}, then one per
     * alternate root.
     *
     * <p>Downloaded from the management listener once per start; a restart brings new roots.
     *
     * @return the self-signed root certificates, the main one first
     * @throws IllegalStateException if the server is not running or does not answer
     */
    public synchronized List<X509Certificate> issuingRoots() {
        requireRunning();
        if (issuingRoots == null) {
            issuingRoots = download("/roots/");
        }
        return issuingRoots;
    }

    /**
     * Returns the main root Pebble currently issues certificates from, {@code /roots/0}.
     *
     * @return the root certificate
     * @throws IllegalStateException if the server is not running or does not answer
     */
    public X509Certificate issuingRoot() {
        return issuingRoots().get(0);
    }

    /**
     * Returns the intermediate certificates that sign Pebble's end-entity certificates, one per
     * issuing root and in the same order as {@link #issuingRoots()}: {@code /intermediates/0}
     * first.
     *
     * @return the intermediate certificates
     * @throws IllegalStateException if the server is not running or does not answer
     */
    public synchronized List<X509Certificate> intermediates() {
        requireRunning();
        if (intermediates == null) {
            intermediates = download("/intermediates/");
        }
        return intermediates;
    }

    /**
     * Returns a new in-memory PKCS#12 trust store holding every current issuing root, for TLS
     * clients that check certificates Pebble issued.
     *
     * @return a key store with one trusted certificate entry per root, without password
     * @throws IllegalStateException if the server is not running or does not answer
     */
    public KeyStore issuingTrustStore() {
        return PebbleCertificates.trustStore(issuingRoots(), "pebble-root-");
    }

    // ---------------------------------------------------------------- Pebble's log

    /**
     * Returns the lines Pebble has written since it was started (across {@link #restart()}), for
     * tests that count what a client asked the CA: each request Pebble serves is one line naming
     * its method and path, such as {@code POST /order-plz} or {@code GET /draft-ietf-acme-ari-03/renewalInfo/…}.
     *
     * @return the log lines, oldest first
     * @throws IllegalStateException when Pebble is not running
     */
    public synchronized List<String> log() {
        requireRunning();
        try {
            return Files.readAllLines(workDirectory.resolve("pebble.log"));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read Pebble's log", e);
        }
    }

    /**
     * Counts the lines of {@link #log()} that contain {@code fragment}.
     *
     * @param fragment for example {@code "POST /order-plz"} (new orders), {@code "POST /sign-me-up"}
     *     (new accounts) or {@code "renewalInfo/ -> calling"} (ARI requests)
     * @return how many lines contain it
     */
    public long countLogLines(String fragment) {
        Objects.requireNonNull(fragment, "fragment");
        return log().stream().filter(line -> line.contains(fragment)).count();
    }

    // ---------------------------------------------------------------- mock DNS

    /**
     * Makes the mock DNS server answer TXT queries for a name with a value, as a DNS-01
     * challenge needs (for example host {@code _acme-challenge.example.test}).
     *
     * @param host the name; a final dot is added when missing
     * @param value the TXT value
     * @throws IllegalStateException if the server is not running or refuses the request
     */
    public void setTxt(String host, String value) {
        Objects.requireNonNull(value, "value");
        Map<String, String> body = new LinkedHashMap<>();
        body.put("host", Json.string(absolute(host)));
        body.put("value", Json.string(value));
        postToDns("/set-txt", body);
    }

    /**
     * Removes the TXT answer set for a name with {@link #setTxt}.
     *
     * @param host the name; a final dot is added when missing
     * @throws IllegalStateException if the server is not running or refuses the request
     */
    public void clearTxt(String host) {
        postToDns("/clear-txt", Map.of("host", Json.string(absolute(host))));
    }

    /**
     * Makes the mock DNS server answer A queries for a name with the given IPv4 addresses
     * instead of the default {@code 127.0.0.1}.
     *
     * @param host the name; a final dot is added when missing
     * @param addresses one or more IPv4 address literals
     * @throws IllegalArgumentException if no address is given or one is not an IPv4 literal
     * @throws IllegalStateException if the server is not running or refuses the request
     */
    public void addA(String host, String... addresses) {
        Objects.requireNonNull(addresses, "addresses");
        if (addresses.length == 0) {
            throw new IllegalArgumentException("At least one address is needed");
        }
        for (String address : addresses) {
            Objects.requireNonNull(address, "address");
            if (!IPV4_LITERAL.matcher(address).matches()) {
                throw new IllegalArgumentException("Not an IPv4 address literal: " + address);
            }
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("host", Json.string(absolute(host)));
        body.put("addresses", Json.array(List.of(addresses)));
        postToDns("/add-a", body);
    }

    // ---------------------------------------------------------------- command line

    /**
     * Runs Pebble until Ctrl-C, printing its directory URL, trust PEM file and HTTP-01 port.
     *
     * <p>Options: {@code --http-port N} (the HTTP-01 validation port), {@code --validity SECONDS}
     * (the validity of issued certificates) and {@code --state-file PATH} (write a properties
     * file with the keys {@code directory}, {@code trust}, {@code httpPort} and
     * {@code managementPort} once Pebble runs, and delete it when Pebble stops; for scripts).
     *
     * @param args the options
     * @throws InterruptedException if the main thread is interrupted while waiting
     */
    public static void main(String[] args) throws InterruptedException {
        MainOptions cli;
        try {
            cli = MainOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(MainOptions.USAGE);
            System.exit(2);
            return;
        }
        if (cli.help()) {
            System.out.println(MainOptions.USAGE);
            return;
        }
        PebbleServer pebble = cli.applyTo(builder()).build();
        try {
            if (cli.stateFile() != null) {
                StateFile.delete(cli.stateFile());
            }
            pebble.start();
            if (cli.stateFile() != null) {
                StateFile.write(cli.stateFile(), pebble.stateProperties());
                Runtime.getRuntime().addShutdownHook(
                        new Thread(() -> StateFile.delete(cli.stateFile()), "autocert-testkit-state-file"));
            }
        } catch (RuntimeException e) {
            pebble.stop();
            System.err.println(e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println("Pebble ACME directory: " + pebble.directoryUrl());
        System.out.println("Trust PEM (ca-trust):  " + pebble.trustPem());
        System.out.println("HTTP-01 port:          " + pebble.httpPort());
        System.out.println("Press Ctrl-C to stop.");
        // The shutdown hook registered by start() stops Pebble when the JVM exits.
        new CountDownLatch(1).await();
    }

    /** Returns what a script needs to use this server, in the order written to the state file. */
    private Map<String, String> stateProperties() {
        Map<String, String> state = new LinkedHashMap<>();
        state.put("directory", directoryUrl().toString());
        state.put("trust", trustPem().toAbsolutePath().toString());
        state.put("httpPort", Integer.toString(httpPort()));
        state.put("managementPort", Integer.toString(managementPort()));
        return state;
    }

    // ---------------------------------------------------------------- internals

    /** Writes the listener files and configuration into {@code directory} and starts both programs. */
    private void launch(PebbleBinaries binaries, Path directory) {
        trustPem = certificates.writeTrust(directory.resolve("listener-ca.pem"));
        Path certificate = certificates.writeListenerCertificate(directory.resolve("listener.pem"));
        Path key = certificates.writeListenerKey(directory.resolve("listener-key.pem"));
        Path config = directory.resolve("pebble-config.json");
        try {
            Files.writeString(config, options.configJson(ports, certificate, key));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write " + config, e);
        }
        processes = PebbleProcesses.start(binaries, ports, config, options.environment(), directory, options.dnsServer());
    }

    private List<X509Certificate> download(String pathPrefix) {
        List<X509Certificate> certificates = new ArrayList<>();
        for (int i = 0; i < options.rootCount(); i++) {
            URI url = URI.create("https://localhost:" + ports.management() + pathPrefix + i);
            certificates.add(managementClient.certificates(url).get(0));
        }
        return List.copyOf(certificates);
    }

    private void postToDns(String path, Map<String, String> body) {
        if (options.dnsServer() != null) {
            throw new IllegalStateException("Pebble resolves through " + options.dnsServer() + " (Builder.dnsServer), not its "
                    + "mock DNS server: change the records in that server");
        }
        ManagementClient client;
        int port;
        synchronized (this) {
            requireRunning();
            client = managementClient;
            port = ports.challengeManagement();
        }
        client.post(URI.create("http://" + FreePorts.LOOPBACK.getHostAddress() + ":" + port + path), Json.object(body));
    }

    private static String absolute(String host) {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host is blank");
        }
        return host.endsWith(".") ? host : host + ".";
    }

    private synchronized Ports ports() {
        if (ports == null) {
            throw notStarted();
        }
        return ports;
    }

    private void requireRunning() {
        if (!isRunning()) {
            throw new IllegalStateException(processes == null
                    ? "Pebble is not running; call start() first"
                    : "Pebble has exited by itself; see the DEBUG log of " + ProcessRunner.class.getName());
        }
    }

    private static IllegalStateException notStarted() {
        return new IllegalStateException("Pebble has not been started; call start() first");
    }

    private void forgetIssuers() {
        issuingRoots = null;
        intermediates = null;
    }

    private static Path createWorkDirectory() {
        try {
            return Files.createTempDirectory("autocert-pebble-");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a temporary directory for Pebble", e);
        }
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            LOG.warn("Could not delete Pebble's temporary directory {}", directory, e);
        }
    }

    // ---------------------------------------------------------------- builder

    /**
     * Configures a {@link PebbleServer}; every setting is optional.
     *
     * <p>The defaults make tests deterministic: no rejected nonces, no reused authorizations,
     * one issuing root, Pebble's default certificate validity, no external account binding, and
     * free ports for the validation connections.
     */
    public static final class Builder {

        /** Pebble decodes keys with Go's {@code base64.RawURLEncoding}. */
        private static final Pattern BASE64URL_UNPADDED = Pattern.compile("[A-Za-z0-9_-]+");

        /** Pebble ignores longer validity periods (they overflow Go's time.Duration). */
        private static final long MAX_VALIDITY_SECONDS = 9_223_372_037L;

        private int nonceRejectPercent;
        private Duration certificateValidity;
        private int alternateRoots;
        private int authorizationReusePercent;
        private String eabKeyId;
        private String eabHmacKey;
        private int httpPort;
        private int tlsPort;
        private Path pebbleBinary;
        private boolean current;
        private final Map<String, Duration> profiles = new LinkedHashMap<>();
        private Duration retryAfterAuthz;
        private Duration retryAfterOrder;
        private InetSocketAddress dnsServer;

        private Builder() {
        }

        /**
         * Runs Pebble 2.10 or later, which has ARI (RFC 9773), profiles and {@code Retry-After}
         * settings, instead of Debian bookworm's 2.4. It is looked for where
         * {@code scripts/fetch-pebble} puts it ({@code ~/.cache/autocert/pebble-2.10}, or
         * {@code $AUTOCERT_CACHE/pebble-2.10}) or at the system property
         * {@code autocert.testkit.pebble-current}; when missing, {@link #start()} fails with the
         * command that fetches it.
         *
         * @return this builder
         */
        public Builder current() {
            this.current = true;
            return this;
        }

        /**
         * Offers an ACME profile (Pebble 2.10): {@code name} issues certificates valid for
         * {@code validity}. 
         * Pebble picks one of them at random for an order that names none, so a test that orders
         * without a profile should offer one only. Without any, Pebble 2.10 offers {@code default},
         * with the {@link #certificateValidity} asked for. Implies {@link #current()}.
         *
         * @param name the profile's name, as clients ask for it
         * @param validity how long its certificates are valid
         * @return this builder
         */
        public Builder profile(String name, Duration validity) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(validity, "validity");
            if (validity.toSeconds() < 1) {
                throw new IllegalArgumentException("validity must be at least one second: " + validity);
            }
            profiles.put(name, validity);
            current = true;
            return this;
        }

        /**
         * Makes Pebble (2.10) send {@code Retry-After} on authorizations being validated, on
         * finalization and on orders being processed, as a busy CA does. Implies {@link #current()}.
         *
         * @param authorization the delay announced on authorizations, whole seconds
         * @param order the delay announced on orders, whole seconds
         * @return this builder
         */
        public Builder retryAfter(Duration authorization, Duration order) {
            this.retryAfterAuthz = Objects.requireNonNull(authorization, "authorization");
            this.retryAfterOrder = Objects.requireNonNull(order, "order");
            current = true;
            return this;
        }

        /**
         * Sets how often Pebble rejects a nonce as bad ({@code PEBBLE_WFE_NONCEREJECT}), to
         * exercise a client's retries.
         *
         * @param percent 0 (the default) to 100
         * @return this builder
         */
        public Builder nonceRejectPercent(int percent) {
            this.nonceRejectPercent = percent(percent, "nonceRejectPercent");
            return this;
        }

        /**
         * Sets the validity of the certificates Pebble issues (the configuration's
         * {@code certificateValidityPeriod}; on Pebble 2.10, the validity of its {@code default}
         * profile), for example a few minutes to test renewal.
         *
         * @param validity one second or more; rounded down to whole seconds
         * @return this builder
         */
        public Builder certificateValidity(Duration validity) {
            Objects.requireNonNull(validity, "validity");
            if (validity.toSeconds() < 1 || validity.toSeconds() > MAX_VALIDITY_SECONDS) {
                throw new IllegalArgumentException(
                        "certificateValidity must be from 1 to " + MAX_VALIDITY_SECONDS + " seconds: " + validity);
            }
            this.certificateValidity = validity;
            return this;
        }

        /**
         * Sets how many alternate issuing roots Pebble makes besides the main one
         * ({@code PEBBLE_ALTERNATE_ROOTS}).
         *
         * @param count 0 (the default) or more
         * @return this builder
         */
        public Builder alternateRoots(int count) {
            if (count < 0) {
                throw new IllegalArgumentException("alternateRoots must not be negative: " + count);
            }
            this.alternateRoots = count;
            return this;
        }

        /**
         * Sets how often Pebble reuses a valid authorization for a new order
         * ({@code PEBBLE_AUTHZREUSE}).
         *
         * <p>Even at 0, Pebble reuses a valid authorization about one time in a hundred (its check
         * is {@code rand.Intn(100) > percent}), so a test that needs a renewal to be validated again
         * orders once more when no validation request came.
         *
         * @param percent 0 (the default: nearly every order is validated) to 100
         * @return this builder
         */
        public Builder authorizationReusePercent(int percent) {
            this.authorizationReusePercent = percent(percent, "authorizationReusePercent");
            return this;
        }

        /**
         * Makes Pebble require external account binding, with one accepted key.
         *
         * @param keyId the key identifier the client sends
         * @param base64UrlHmacKey the HMAC key, base64url-encoded
         * @return this builder
         */
        public Builder externalAccountBinding(String keyId, String base64UrlHmacKey) {
            Objects.requireNonNull(keyId, "keyId");
            Objects.requireNonNull(base64UrlHmacKey, "base64UrlHmacKey");
            if (keyId.isBlank()) {
                throw new IllegalArgumentException("keyId is blank");
            }
            if (!BASE64URL_UNPADDED.matcher(base64UrlHmacKey).matches()) {
                throw new IllegalArgumentException(
                        "base64UrlHmacKey must be base64url without padding, as Pebble decodes it: " + base64UrlHmacKey);
            }
            this.eabKeyId = keyId;
            this.eabHmacKey = base64UrlHmacKey;
            return this;
        }

        /**
         * Sets the port Pebble connects to on {@code 127.0.0.1} when it validates an HTTP-01
         * challenge.
         *
         * @param port 1 to 65535; by default a free port is picked at start
         * @return this builder
         */
        public Builder httpPort(int port) {
            this.httpPort = port(port, "httpPort");
            return this;
        }

        /**
         * Sets the port Pebble connects to on {@code 127.0.0.1} when it validates a TLS-ALPN-01
         * challenge.
         *
         * @param port 1 to 65535; by default a free port is picked at start
         * @return this builder
         */
        public Builder tlsPort(int port) {
            this.tlsPort = port(port, "tlsPort");
            return this;
        }

        /**
         * Makes Pebble resolve every name through a DNS server of the test's own
         * ({@code pebble -dnsserver}) instead of its mock {@code pebble-challtestsrv}, which is then
         * not started: Pebble validates DNS-01 by really querying that server, and HTTP-01 and
         * TLS-ALPN-01 connect to the addresses it answers, so it needs A records for the names
         * ordered ({@link BindServer} and the other test DNS servers have {@code 127.0.0.1} for the
         * apex and {@code *}). {@link PebbleServer#dnsAddress()} then returns this address, and
         * {@link PebbleServer#setTxt}, {@link PebbleServer#clearTxt} and {@link PebbleServer#addA}
         * fail: change the records in that server.
         *
         * <pre>{@code
         * static final BindServer BIND = BindServer.builder().build();
         * static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(BIND.address()).build();
         * }</pre>
         *
         * @param address the server's IP address and port (UDP and TCP), such as
         *     {@link DnsServer#address()}
         * @return this builder
         * @throws IllegalArgumentException if the address is unresolved
         */
        public Builder dnsServer(InetSocketAddress address) {
            Objects.requireNonNull(address, "address");
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("dnsServer must be an IP address and port: " + address);
            }
            this.dnsServer = address;
            return this;
        }

        /**
         * Sets the {@code pebble} executable, overriding the search; for tests of the test kit.
         *
         * @param file the executable; {@code pebble-challtestsrv} is looked for next to it first
         * @return this builder
         */
        Builder pebbleBinary(Path file) {
            this.pebbleBinary = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * Creates the server, which is not started yet.
         *
         * @return a new server
         */
        public PebbleServer build() {
            return new PebbleServer(new PebbleOptions(nonceRejectPercent, certificateValidity, alternateRoots,
                    authorizationReusePercent, eabKeyId, eabHmacKey, httpPort, tlsPort, pebbleBinary, current,
                    profiles, retryAfterAuthz, retryAfterOrder, dnsServer));
        }

        private static int percent(int value, String name) {
            if (value < 0 || value > 100) {
                throw new IllegalArgumentException(name + " must be from 0 to 100: " + value);
            }
            return value;
        }

        private static int port(int value, String name) {
            if (value < 1 || value > 65535) {
                throw new IllegalArgumentException(name + " must be from 1 to 65535: " + value);
            }
            return value;
        }
    }
}
