package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.jetty.AutocertJetty;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert import-certbot} takes over what a real Certbot (Debian's {@code certbot})
 * obtained from Pebble: two lineages (one answered by Certbot's standalone server and renewed
 * once, so it has two versions; one through a webroot) and the account. Then a real embedded
 * Jetty with the settings the command printed serves Certbot's certificates without ordering,
 * and renews with Certbot's account, registering none.
 */
class ImportCertbotIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final Path CERTBOT = Path.of("/usr/bin/certbot");
    private static final String ONE = "one.example.test";
    private static final String WWW_ONE = "www.one.example.test";
    private static final String TWO = "two.example.test";

    /** Certbot's configuration directory, filled once for the class: the /etc/letsencrypt of these tests. */
    @TempDir
    static Path certbotWork;

    static Path letsencrypt;

    @TempDir
    Path work;

    private Server server;

    @BeforeAll
    static void certbotObtainsTwoCertificates() throws Exception {
        assertTrue(Files.isExecutable(CERTBOT), "Certbot is needed at " + CERTBOT + ": apt-get install -y certbot");
        letsencrypt = certbotWork.resolve("letsencrypt");
        certbot("certonly", "--standalone", "--http-01-port", Integer.toString(PEBBLE.httpPort()), "--http-01-address", "127.0.0.1",
                "-d", ONE, "-d", WWW_ONE);
        certbot("renew", "--force-renewal", "--cert-name", ONE, "--no-random-sleep-on-renew");
        Path webroot = Files.createDirectories(certbotWork.resolve("webroot"));
        HttpServer web = webrootServer(webroot);
        try {
            certbot("certonly", "--webroot", "-w", webroot.toString(), "-d", TWO);
        } finally {
            web.stop(0);
        }
        assertEquals("../../archive/" + ONE + "/cert2.pem", Files.readSymbolicLink(letsencrypt.resolve("live/" + ONE + "/cert.pem"))
                .toString(), "Certbot's renewal made version 2 current");
    }

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void aServerServesAndRenewsWhatCertbotObtained() throws Exception {
        Path storage = work.resolve("storage");
        long accountsBefore = PEBBLE.countLogLines("POST /sign-me-up");
        assertEquals(1, accountsBefore, "Certbot registered one account");

        CommandRunner.Result result = CommandRunner.run("import-certbot", letsencrypt.toString(), "--storage", storage.toString());

        assertEquals(0, result.exitCode(), result.toString());
        String accountUrl = certbotAccountUrl();
        assertTrue(result.out().contains("Imported 2 certificates from " + letsencrypt + " into " + storage), result.toString());
        assertTrue(result.out().contains("  " + ONE + ": versions 1-2, current 2"), result.toString());
        assertTrue(result.out().contains("  " + TWO + ": version 1, current 1"), result.toString());
        assertTrue(result.out().contains("Imported the account " + accountUrl + " at " + PEBBLE.directoryUrl()), result.toString());
        assertTrue(result.out().contains("note: Certbot wrote its HTTP-01 answers into " + certbotWork.resolve("webroot")), result.toString());
        assertTrue(result.err().isEmpty(), result.toString());

        // Every version, Certbot's numbers, the current one recorded with its CA; keys and account owner-only.
        for (int version = 1; version <= 2; version++) {
            assertEquals(Files.readString(letsencrypt.resolve("archive/" + ONE + "/cert" + version + ".pem")).strip(),
                    Files.readString(storage.resolve("archive/" + ONE + "/cert" + version + ".pem")).strip());
            assertOwnerOnly(storage.resolve("archive/" + ONE + "/privkey" + version + ".pem"));
        }
        Properties lineage = properties(storage.resolve("renewal/" + ONE + ".properties"));
        assertEquals("2", lineage.getProperty("version"));
        assertEquals(PEBBLE.directoryUrl().toString(), lineage.getProperty("ca"));
        assertEquals(ONE + "," + WWW_ONE, lineage.getProperty("domains"));
        assertOwnerOnly(storage.resolve("live/" + ONE + "/privkey.pem"));
        Path accountDirectory = storage.resolve("accounts/localhost_" + PEBBLE.directoryUrl().getPort() + "_dir");
        assertEquals(accountUrl, properties(accountDirectory.resolve("account.properties")).getProperty("location"));
        assertOwnerOnly(accountDirectory.resolve("account.key"));

        // The settings it printed start a server that serves Certbot's certificates, ordering nothing.
        Properties settings = printedSettings(result.out());
        assertEquals(ONE + "," + WWW_ONE + ";" + TWO, settings.getProperty("autocert.domains"));
        assertEquals(storage.toString(), settings.getProperty("autocert.storage"));
        assertEquals(PEBBLE.directoryUrl().toString(), settings.getProperty("autocert.ca"));
        assertEquals(Integer.toString(PEBBLE.httpPort()), settings.getProperty("autocert.http-port"), "Certbot's --http-01-port");
        settings.setProperty("autocert.ca-trust", PEBBLE.trustPem().toString()); // Certbot had it from REQUESTS_CA_BUNDLE
        long ordersBefore = PEBBLE.countLogLines("POST /order-plz");
        int port = startServer(AutocertSettings.fromProperties(settings));
        String certbotOne = serial(certificate(letsencrypt.resolve("live/" + ONE + "/cert.pem")));
        assertEquals(certbotOne, served(port, ONE));
        assertEquals(certbotOne, served(port, WWW_ONE));
        assertEquals(serial(certificate(letsencrypt.resolve("live/" + TWO + "/cert.pem"))), served(port, TWO));
        Thread.sleep(1500); // the engine's first look at each certificate, on its own thread
        assertEquals(ordersBefore, PEBBLE.countLogLines("POST /order-plz"), "the imported certificates need no order");

        // A forced renewal goes to the same CA with Certbot's account: no registration.
        CertificateManager manager = server.getBean(AutocertJetty.class).manager().orElseThrow();
        CertifiedKey renewed = manager.renew(ONE).get(90, TimeUnit.SECONDS);
        assertNotEquals(certbotOne, renewed.serial());
        assertEquals(3, renewed.version(), "the next version after Certbot's");
        try (HttpsProbe.Connection https = HttpsProbe.awaitServed(pebbleRoots(), port, ONE, renewed.serial(), Duration.ofSeconds(30))) {
            assertEquals(renewed.serial(), serial(https.served()));
        }
        assertEquals(ordersBefore + 1, PEBBLE.countLogLines("POST /order-plz"));
        assertEquals(accountsBefore, PEBBLE.countLogLines("POST /sign-me-up"), "no new account: Certbot's was used");
        assertEquals(accountUrl, properties(accountDirectory.resolve("account.properties")).getProperty("location"));
        server.stop();
        server = null;

        // Run again: what is already there is left alone; a certificate that has moved on is not replaced without --force.
        CommandRunner.Result again = CommandRunner.run("import-certbot", letsencrypt.toString(), "--storage", storage.toString());
        assertEquals(ExitCodes.PARTIAL, again.exitCode(), again.toString());
        assertTrue(again.out().contains("  " + TWO + ": already imported"), again.toString());
        assertTrue(again.out().contains("Account " + accountUrl + " at " + PEBBLE.directoryUrl() + ": already imported"), again.toString());
        assertTrue(again.err().contains("Not imported:\n  " + ONE + ": the storage already holds a certificate " + ONE + " (version 3, serial "
                + renewed.serial()), again.toString());
        assertTrue(again.err().contains("run with --force to replace it"), again.toString());
        assertEquals("3", properties(storage.resolve("renewal/" + ONE + ".properties")).getProperty("version"));

        CommandRunner.Result forced = CommandRunner.run("import-certbot", letsencrypt.toString(), "--storage", storage.toString(),
                "--force", "--cert-name", ONE);
        assertEquals(0, forced.exitCode(), forced.toString());
        assertEquals("2", properties(storage.resolve("renewal/" + ONE + ".properties")).getProperty("version"));
        assertFalse(Files.exists(storage.resolve("archive/" + ONE + "/cert3.pem")), "--force replaced the whole lineage");
        assertEquals(certbotOne, serial(certificate(storage.resolve("live/" + ONE + "/cert.pem"))));
    }

    @Test
    void importsACertificateWhosePluginHasNoEquivalentAndSaysWhatToSet() throws Exception {
        // A copy of Certbot's directory (its renewal files still name the original) whose webroot
        // lineage claims a DNS plugin Autocert has no provider for.
        Path copy = work.resolve("letsencrypt-copy");
        run(List.of("cp", "-a", letsencrypt.toString(), copy.toString()));
        Path conf = copy.resolve("renewal/" + TWO + ".conf");
        Files.writeString(conf, Files.readString(conf).replace("authenticator = webroot", "authenticator = dns-gehirn\n"
                + "dns_gehirn_credentials = /etc/letsencrypt/gehirn.ini"));
        Path storage = work.resolve("storage");

        CommandRunner.Result dryRun = CommandRunner.run("import-certbot", copy.toString(), "--storage", storage.toString(), "--cert-name",
                TWO, "--dry-run");
        assertEquals(0, dryRun.exitCode(), dryRun.toString());
        assertTrue(dryRun.out().contains("Would import 1 certificate"), dryRun.toString());
        assertTrue(dryRun.out().contains("Nothing was written (--dry-run)."), dryRun.toString());
        assertFalse(Files.exists(storage.resolve("renewal")), "a dry run writes nothing");

        CommandRunner.Result result = CommandRunner.run("import-certbot", copy.toString(), "--storage", storage.toString(), "--cert-name", TWO);

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("Imported 1 certificate from " + copy), result.toString());
        assertTrue(result.out().contains("To do before Certbot's renewals stop:\n  " + TWO + ": Certbot's dns-gehirn plugin has no Autocert "
                + "DNS provider; set autocert.challenges=dns-01 and autocert.dns-provider"), result.toString());
        assertEquals(TWO, printedSettings(result.out()).getProperty("autocert.domains"));
        assertEquals(serial(certificate(letsencrypt.resolve("live/" + TWO + "/cert.pem"))),
                serial(certificate(storage.resolve("live/" + TWO + "/cert.pem"))), "the certificate is imported anyway");
        assertFalse(Files.exists(storage.resolve("renewal/" + ONE + ".properties")), "only --cert-name");
    }

    @Test
    void saysWhatIsWrongWithADirectoryThatIsNotCertbots() throws Exception {
        CommandRunner.Result result = CommandRunner.run("import-certbot", work.toString(), "--storage", work.resolve("storage").toString());
        assertEquals(ExitCodes.FAILURE, result.exitCode(), result.toString());
        assertEquals("autocert: DIR: " + work + " is not a Certbot configuration directory (it has no renewal/ directory); name the "
                + "directory Certbot's --config-dir used, /etc/letsencrypt by default\n", result.err());
    }

    // ---------------------------------------------------------------- helpers

    /** Runs Certbot on {@link #letsencrypt} against Pebble, as an operator would, and fails with its output if it fails. */
    private static void certbot(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(CERTBOT.toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--config-dir", letsencrypt.toString(), "--work-dir", certbotWork.resolve("work").toString(),
                "--logs-dir", certbotWork.resolve("logs").toString(), "--non-interactive"));
        if (args[0].equals("certonly")) {
            command.addAll(List.of("--server", PEBBLE.directoryUrl().toString(), "--agree-tos", "-m", "admin@example.test"));
        }
        run(command);
    }

    private static void run(List<String> command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("REQUESTS_CA_BUNDLE", PEBBLE.trustPem().toString()); // Certbot's trust for Pebble's HTTPS
        Path output = Files.createTempFile("certbot-", ".txt");
        Process process = builder.redirectOutput(output.toFile()).start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish in 2 minutes:\n" + Files.readString(output));
        }
        assertEquals(0, process.exitValue(), () -> String.join(" ", command) + " failed:\n" + read(output));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** A plain web server on Pebble's HTTP-01 port serving {@code webroot}, as nginx would for Certbot's --webroot. */
    private static HttpServer webrootServer(Path webroot) throws IOException {
        HttpServer web = HttpServer.create(new InetSocketAddress("127.0.0.1", PEBBLE.httpPort()), 0);
        web.createContext("/.well-known/acme-challenge/", exchange -> {
            Path file = webroot.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
            byte[] body;
            int status = 200;
            try {
                body = file.startsWith(webroot) ? Files.readAllBytes(file) : new byte[0];
            } catch (NoSuchFileException e) {
                body = new byte[0];
                status = 404;
            }
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        web.start();
        return web;
    }

    /** The account URL in Certbot's one account's regr.json. */
    private static String certbotAccountUrl() throws IOException {
        try (var files = Files.walk(letsencrypt.resolve("accounts"))) {
            Path regr = files.filter(p -> p.getFileName().toString().equals("regr.json")).findFirst().orElseThrow();
            Matcher m = Pattern.compile("\"uri\":\\s*\"([^\"]+)\"").matcher(Files.readString(regr));
            assertTrue(m.find(), "regr.json has the account URL");
            return m.group(1);
        }
    }

    /** The {@code autocert.*} lines of the command's output, as a properties file would hold them. */
    private static Properties printedSettings(String out) throws IOException {
        StringBuilder lines = new StringBuilder();
        out.lines().filter(line -> line.startsWith("autocert.")).forEach(line -> lines.append(line).append('\n'));
        Properties properties = new Properties();
        properties.load(new StringReader(lines.toString()));
        return properties;
    }

    private int startServer(AutocertSettings settings) throws Exception {
        server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer());
        ServerConnector https = new ServerConnector(server, new SslConnectionFactory(new SslContextFactory.Server(), "http/1.1"),
                new HttpConnectionFactory(config));
        https.setHost("127.0.0.1");
        server.addConnector(https);
        AutocertJetty.install(server, settings);
        server.start();
        return ((NetworkConnector) server.getConnectors()[0]).getLocalPort();
    }

    /** The serial of the certificate served for {@code host}, its chain verified to Pebble's roots and its name checked. */
    private static String served(int port, String host) throws Exception {
        try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots(), port, host)) {
            return serial(connection.served());
        }
    }

    /** A new client context each time: a resumed session would show the certificate of its first handshake. */
    private static SSLContext pebbleRoots() throws Exception {
        return HttpsProbe.trusting(PEBBLE.issuingTrustStore());
    }

    private static X509Certificate certificate(Path pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(Files.readAllBytes(pem)));
    }

    private static String serial(X509Certificate certificate) {
        return certificate.getSerialNumber().toString(16);
    }

    private static Properties properties(Path file) throws IOException {
        Properties properties = new Properties();
        properties.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        return properties;
    }

    private static void assertOwnerOnly(Path file) throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), file + " holds a private key");
    }
}
