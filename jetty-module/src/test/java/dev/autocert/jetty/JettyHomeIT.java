package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.BindServer;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.core.EngineMBeanCheck;
import dev.autocert.testkit.JmxProbe;
import dev.autocert.testkit.PebbleServer;
import dev.autocert.testkit.PostgresServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.StandardOpenOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A stock jetty-home, started as its own process in a fresh {@code $JETTY_BASE}, set up exactly
 * as docs/jetty.md tells a user: unzip the autocert archive into the base, {@code
 * --add-modules=https,autocert}, settings in {@code start.d/autocert.ini}. Runs against every
 * jetty-home the build unpacked (12.1 and 12.0) with the same archive.
 */
class JettyHomeIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    /** For DNS-01: a real BIND, and a Pebble that validates by querying it. */
    @RegisterExtension
    @Order(1)
    static final BindServer DNS = BindServer.builder().build();

    @RegisterExtension
    @Order(2)
    static final PebbleServer DNS_PEBBLE = PebbleServer.builder().dnsServer(DNS.address()).build();

    @RegisterExtension
    static final PostgresServer POSTGRES = PostgresServer.builder().build();

    private static final String NAME = "www.example.test";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final List<Process> processes = new ArrayList<>();

    static Stream<Path> jettyHomes() {
        return Arrays.stream(property("autocert.it.jettyHomes").split(",")).map(Path::of).distinct();
    }

    @AfterEach
    void stopJetty() throws InterruptedException {
        for (Process process : processes) {
            process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
        PEBBLE.start();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jettyHomes")
    void obtainsACertificateAndServesTheStoredOneAfterARestartWithoutTheCa(Path jettyHome) throws Exception {
        Path base = newJettyBase(jettyHome);
        int httpsPort = TestServers.freePort();

        configure(base, httpsPort,
                // The status page and HSTS, as docs/jetty.md shows them:
                "autocert.status-path=/autocert-status",
                "autocert.hsts=on");
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());

        // First start: the certificate comes from Pebble, through the challenge handler.
        Path firstLog = base.resolve("jetty-1.log");
        Process jetty = java(jettyHome, base, firstLog);
        X509Certificate issued = awaitCertificate(jetty, firstLog, pebbleRoots, httpsPort);
        try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, httpsPort, NAME, NAME)) {
            HttpsProbe.Response root = connection.get("/", NAME);
            assertEquals(404, root.status(), "Jetty's own answer: no context is deployed");
            assertEquals("max-age=31536000", root.header("strict-transport-security"));
            HttpsProbe.Response page = connection.get("/autocert-status", NAME);
            assertEquals(200, page.status(), page.body());
            assertEquals("application/json", page.header("content-type"));
            assertEquals("max-age=31536000", page.header("strict-transport-security"));
            assertTrue(page.body().contains("\"serial\":\"" + issued.getSerialNumber().toString(16) + "\""), page.body());
        }
        HttpsProbe.Response plain = HttpsProbe.plain(PEBBLE.httpPort(), "GET", "/autocert-status", NAME);
        assertEquals(308, plain.status(), "the plain HTTP connector redirects the status path to HTTPS");
        assertEquals(null, plain.header("strict-transport-security"));
        assertTrue(Files.isDirectory(base.resolve("autocert")), "storage defaults to $JETTY_BASE/autocert");
        stop(jetty);
        assertTrue(Files.readString(firstLog).contains("Certificate " + NAME + " obtained from "), Files.readString(firstLog));

        // Second start, with the CA gone: the stored certificate serves at once.
        PEBBLE.stop();
        Path secondLog = base.resolve("jetty-2.log");
        Process restarted = java(jettyHome, base, secondLog);
        X509Certificate stored = awaitCertificate(restarted, secondLog, pebbleRoots, httpsPort);
        assertEquals(issued, stored);
        String log = Files.readString(secondLog);
        assertTrue(log.contains("Certificate " + NAME + " loaded from storage"), log);
        assertFalse(log.contains("obtained from"), log);
        assertFalse(log.contains("placeholder"), "the placeholder never served: " + log);
        stop(restarted);
    }

    /**
     * The metrics of issue 13 on plain Jetty: started with the JDK's JMX agent on a loopback port,
     * as docs/operations.md shows, the process has the engine's MXBean under the certificate's
     * name, with what the engine did to get the served certificate.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("jettyHomes")
    void showsTheCertificateAndTheEnginesCountsOverRemoteJmx(Path jettyHome) throws Exception {
        Path base = newJettyBase(jettyHome);
        int httpsPort = TestServers.freePort();
        int jmxPort;
        do {
            jmxPort = TestServers.freePort(); // a port just released may be handed out twice
        } while (jmxPort == httpsPort || jmxPort == PEBBLE.httpPort());
        configure(base, httpsPort);
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());

        // java -Dcom.sun.management.jmxremote.port=... -jar $JETTY_HOME/start.jar
        Path log = base.resolve("jetty.log");
        Process jetty = java(jettyHome, base, log, JmxProbe.jvmOptions(jmxPort));
        X509Certificate issued = awaitCertificate(jetty, log, pebbleRoots, httpsPort);
        try (JmxProbe.Connection jmx = JmxProbe.connect(jmxPort, START_TIMEOUT)) {
            EngineMBeanCheck.afterFirstOrder(jmx, NAME, issued, offersAri(PEBBLE));
        }
        stop(jetty);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jettyHomes")
    void obtainsAWildcardCertificateOverDns01WithTheAutocertDnsModule(Path jettyHome) throws Exception {
        Path base = newJettyBase(jettyHome, "--add-modules=https,autocert,autocert-dns");
        int httpsPort = TestServers.freePort();
        Files.copy(DNS_PEBBLE.trustPem(), base.resolve("etc/pebble-ca.pem"));
        Path credentials = base.resolve("etc/autocert-rfc2136.ini");
        Files.writeString(credentials, DNS.rfc2136Credentials());
        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-------"));
        append(base.resolve("start.d/autocert.ini"),
                "autocert.domains=*.example.test,example.test",
                "autocert.email=admin@example.test",
                "autocert.agree-tos=true",
                "autocert.ca=" + DNS_PEBBLE.directoryUrl(),
                "autocert.ca-trust=etc/pebble-ca.pem",
                "autocert.challenges=dns-01",
                "autocert.dns-provider=rfc2136",
                "autocert.dns-credentials=etc/autocert-rfc2136.ini",
                // The test's BIND is this server's view of the zone, and not on port 53:
                "autocert.dns-propagation-check=resolvers",
                "autocert.dns-resolvers=127.0.0.1:" + DNS.port());
        append(base.resolve("start.d/ssl.ini"), "jetty.ssl.host=127.0.0.1", "jetty.ssl.port=" + httpsPort);
        SSLContext pebbleRoots = HttpsProbe.trusting(DNS_PEBBLE.issuingTrustStore());

        Path log = base.resolve("jetty.log");
        Process jetty = java(jettyHome, base, log);
        X509Certificate issued = awaitCertificate(jetty, log, pebbleRoots, httpsPort); // www.example.test, under the wildcard
        List<String> names = issued.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
        assertEquals(Set.of("*.example.test", "example.test"), Set.copyOf(names));
        try (HttpsProbe.Connection apex = HttpsProbe.connect(pebbleRoots, httpsPort, "example.test", "example.test")) {
            assertEquals(issued, apex.served());
        }
        assertEquals(List.of(), DNS.txt("_acme-challenge.example.test"), "the challenge values are removed");
        stop(jetty);
        assertTrue(Files.readString(log).contains("Certificate *.example.test obtained from "), Files.readString(log));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jettyHomes")
    void keepsCertificatesInPostgresWithTheStoreModule(Path jettyHome) throws Exception {
        Path base = newJettyBase(jettyHome, "--add-modules=https,autocert,autocert-store-jdbc");
        // The user's part: the PostgreSQL driver, beside the module's jars.
        Path driver = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator)).map(Path::of)
                .filter(p -> p.getFileName().toString().startsWith("postgresql-")).findFirst().orElseThrow();
        Files.copy(driver, base.resolve("lib/autocert-store-jdbc").resolve(driver.getFileName()));
        String database = POSTGRES.newDatabase();
        int httpsPort = TestServers.freePort();
        Files.copy(PEBBLE.trustPem(), base.resolve("etc/pebble-ca.pem"));
        append(base.resolve("start.d/autocert.ini"),
                "autocert.domains=" + NAME,
                "autocert.email=admin@example.test",
                "autocert.agree-tos=true",
                "autocert.ca=" + PEBBLE.directoryUrl(),
                "autocert.ca-trust=etc/pebble-ca.pem",
                "autocert.http-port=" + PEBBLE.httpPort(),
                "autocert.storage=" + POSTGRES.jdbcUrl(database),
                "autocert.storage-username=" + POSTGRES.username(),
                "autocert.storage-password=" + POSTGRES.password());
        append(base.resolve("start.d/ssl.ini"), "jetty.ssl.host=127.0.0.1", "jetty.ssl.port=" + httpsPort);
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());

        Path log = base.resolve("jetty.log");
        Process jetty = java(jettyHome, base, log);
        X509Certificate issued = awaitCertificate(jetty, log, pebbleRoots, httpsPort);
        stop(jetty);

        String keys = POSTGRES.execute(database, "SELECT key FROM autocert_entries WHERE key LIKE 'live/%' ORDER BY key");
        assertEquals(List.of("live/" + NAME + "/cert.pem", "live/" + NAME + "/chain.pem", "live/" + NAME + "/fullchain.pem",
                "live/" + NAME + "/privkey.pem"), keys.lines().toList());
        assertFalse(Files.exists(base.resolve("autocert")), "nothing stored in $JETTY_BASE");
        String output = Files.readString(log);
        assertTrue(output.contains("Certificate " + NAME + " obtained from "), output);
        assertFalse(output.contains(POSTGRES.password()), "the password is never logged");

        // A restart serves the stored certificate from the database.
        Path secondLog = base.resolve("jetty-2.log");
        Process restarted = java(jettyHome, base, secondLog);
        assertEquals(issued, awaitCertificate(restarted, secondLog, pebbleRoots, httpsPort));
        assertTrue(Files.readString(secondLog).contains("Certificate " + NAME + " loaded from storage"), Files.readString(secondLog));
        stop(restarted);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jettyHomes")
    void refusesAMisspeltSettingInOneLineAndExits(Path jettyHome) throws Exception {
        Path base = newJettyBase(jettyHome);
        append(base.resolve("start.d/autocert.ini"),
                "autocert.domain=" + NAME, // a typo of autocert.domains
                "autocert.agree-tos=true",
                "autocert.http-port=" + TestServers.freePort());
        append(base.resolve("start.d/ssl.ini"), "jetty.ssl.host=127.0.0.1", "jetty.ssl.port=" + TestServers.freePort());

        assertRefusedInOneLine(jettyHome, base, "autocert.domain: unknown setting; did you mean autocert.domains?");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jettyHomes")
    void reportsAnInvalidValueInOneLineAndExits(Path jettyHome) throws Exception {
        Path base = newJettyBase(jettyHome);
        append(base.resolve("start.d/autocert.ini"),
                "autocert.domains=" + NAME,
                "autocert.agree-tos=true",
                "autocert.key-type=ec256",
                "autocert.http-port=" + TestServers.freePort());
        append(base.resolve("start.d/ssl.ini"), "jetty.ssl.host=127.0.0.1", "jetty.ssl.port=" + TestServers.freePort());

        assertRefusedInOneLine(jettyHome, base,
                "autocert.key-type: expected one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 but was 'ec256'");
    }

    /**
     * Starts Jetty, which must refuse to start: {@code message} printed once, in its one ERROR
     * line, with no stack trace and no start.jar usage text, and exit status 1.
     */
    private void assertRefusedInOneLine(Path jettyHome, Path base, String message) throws Exception {
        Path logFile = base.resolve("jetty.log");
        Process jetty = java(jettyHome, base, logFile);
        assertTrue(jetty.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "Jetty exits:\n" + Files.readString(logFile));
        String log = Files.readString(logFile);

        assertEquals(1, lines(log, message).size(), "the message exactly once:\n" + log);
        List<String> errors = lines(log, ":ERROR:");
        assertEquals(1, errors.size(), log);
        assertTrue(errors.get(0).contains("Jetty cannot start: " + message), log);
        assertFalse(log.contains("\tat "), "no stack trace:\n" + log);
        assertFalse(log.contains("Exception"), "no exception:\n" + log);
        assertFalse(log.contains("Usage:"), "no usage text:\n" + log);
        assertEquals(AutocertJettyModule.EXIT_INVALID_SETTING, jetty.exitValue(), log);
    }

    /** The lines of {@code log} that contain {@code text}. */
    private static List<String> lines(String log, String text) {
        return log.lines().filter(line -> line.contains(text)).toList();
    }

    /**
     * A fresh {@code $JETTY_BASE} set up as docs/jetty.md tells a user: the archive unzipped,
     * {@code --add-modules=https,autocert}; the settings are still to be written.
     */
    private Path newJettyBase(Path jettyHome) throws Exception {
        return newJettyBase(jettyHome, "--add-modules=https,autocert");
    }

    private Path newJettyBase(Path jettyHome, String modules) throws Exception {
        assertTrue(Files.isRegularFile(jettyHome.resolve("start.jar")), "jetty-home unpacked by the build: " + jettyHome);
        Path base = Files.createDirectories(Path.of(property("autocert.it.workDirectory"))
                .resolve(jettyHome.getFileName() + "-base-" + System.nanoTime()));
        unzip(Path.of(property("autocert.it.jettyBaseZip")), base);
        Process addModules = java(jettyHome, base, base.resolve("add-modules.log"), modules);
        assertTrue(addModules.waitFor(60, TimeUnit.SECONDS), "--add-modules finished");
        assertEquals(0, addModules.exitValue(), Files.readString(base.resolve("add-modules.log")));
        assertTrue(Files.readString(base.resolve("start.d/autocert.ini")).contains("# autocert.domains="), "the ini template");
        return base;
    }

    /** Polls until the server answers a TLS handshake that Pebble's roots and the host name accept. */
    private static X509Certificate awaitCertificate(Process jetty, Path log, SSLContext trust, int port) throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!jetty.isAlive()) {
                throw new AssertionError("Jetty exited with " + jetty.exitValue() + ":\n" + Files.readString(log));
            }
            try (HttpsProbe.Connection connection = HttpsProbe.connect(trust, port, NAME, NAME)) {
                return connection.served();
            } catch (IOException e) {
                last = e; // not listening yet, or still the placeholder
            }
            Thread.sleep(200);
        }
        throw new AssertionError("No Pebble certificate within " + START_TIMEOUT + " (last: " + last + "):\n" + Files.readString(log));
    }

    /**
     * Whether the CA's directory offers ARI ({@code renewalInfo}, RFC 9773): the engine asks for
     * renewal information only then, right after an order.
     */
    private static boolean offersAri(PebbleServer pebble) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().sslContext(pebble.trustContext()).proxy(HttpClient.Builder.NO_PROXY).build();
        HttpResponse<String> directory = client.send(HttpRequest.newBuilder(pebble.directoryUrl()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, directory.statusCode(), directory.body());
        return directory.body().contains("\"renewalInfo\"");
    }

    private Process java(Path jettyHome, Path base, Path log, String... args) throws IOException {
        return java(jettyHome, base, log, List.of(), args);
    }

    /** {@code java JVM-OPTIONS -jar $JETTY_HOME/start.jar ARGS} in {@code base}, output to {@code log}. */
    private Process java(Path jettyHome, Path base, Path log, List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jettyHome.resolve("start.jar").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(base.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        processes.add(process);
        return process;
    }

    /** Stops Jetty as Ctrl-C would, with its shutdown hook. */
    private static void stop(Process jetty) throws InterruptedException {
        jetty.destroy();
        assertTrue(jetty.waitFor(30, TimeUnit.SECONDS), "Jetty stopped");
    }

    private static void append(Path file, String... lines) throws IOException {
        Files.writeString(file, "\n" + String.join("\n", lines) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static void unzip(Path zip, Path target) throws IOException {
        assertTrue(Files.isRegularFile(zip), "the jetty-base archive built by the package phase: " + zip);
        try (InputStream in = Files.newInputStream(zip); ZipInputStream entries = new ZipInputStream(in)) {
            for (ZipEntry entry = entries.getNextEntry(); entry != null; entry = entries.getNextEntry()) {
                Path path = target.resolve(entry.getName()).normalize();
                if (!path.startsWith(target)) {
                    throw new IOException("Entry outside the target: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                } else {
                    Files.createDirectories(path.getParent());
                    Files.copy(entries, path);
                }
            }
        }
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            throw new IllegalStateException(name + " is not set; run the integration tests with mvn verify");
        }
        return value;
    }

    /**
     * The base's autocert.ini for {@value #NAME} from Pebble, with {@code more} settings, and its
     * HTTPS port on 127.0.0.1. Pebble's trust goes into the base, as a private CA's would (and
     * outlives Pebble's stop).
     */
    private static void configure(Path base, int httpsPort, String... more) throws IOException {
        Files.copy(PEBBLE.trustPem(), base.resolve("etc/pebble-ca.pem"));
        List<String> lines = new ArrayList<>(List.of(
                "autocert.domains=" + NAME,
                "autocert.email=admin@example.test",
                "autocert.agree-tos=true",
                // For the test CA instead of Let's Encrypt:
                "autocert.ca=" + PEBBLE.directoryUrl(),
                "autocert.ca-trust=etc/pebble-ca.pem",
                "autocert.http-port=" + PEBBLE.httpPort()));
        lines.addAll(List.of(more));
        append(base.resolve("start.d/autocert.ini"), lines.toArray(String[]::new));
        append(base.resolve("start.d/ssl.ini"), "jetty.ssl.host=127.0.0.1", "jetty.ssl.port=" + httpsPort);
    }
}
