package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.Http01Tokens;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert revoke} and {@code autocert delete} run as a process on storage holding
 * certificates a real Pebble issued, the revocation confirmed through Pebble's management API.
 */
class RevokeIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    /** Answers Pebble's HTTP-01 requests for the engine issuing the test's certificates. */
    private static HttpServer challenges;
    private static volatile Http01Tokens tokens;

    @TempDir
    Path work;

    @BeforeAll
    static void answerChallenges() throws IOException {
        challenges = HttpServer.create(new InetSocketAddress("127.0.0.1", PEBBLE.httpPort()), 0);
        challenges.createContext("/", exchange -> {
            Http01Tokens current = tokens;
            var body = current == null ? java.util.Optional.<String>empty() : current.respond(exchange.getRequestURI().getRawPath());
            byte[] bytes = body.orElse("").getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(body.isPresent() ? 200 : 404, body.isPresent() ? bytes.length : -1);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        challenges.start();
    }

    @AfterAll
    static void stopAnswering() {
        if (challenges != null) {
            challenges.stop(0);
        }
    }

    @Test
    void revokesWithTheReasonGivenAndRecordsItSoServersReplaceTheCertificate() throws Exception {
        Path storage = work.resolve("storage");
        CertifiedKey issued = issue(storage, "a.example.test").get(0);
        Path config = config(storage);

        CommandRunner.Result result = CommandRunner.run("revoke", "--config", config.toString(), "--cert-name", "a.example.test",
                "--reason", "keycompromise");

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("Revoked certificate a.example.test (version 1, serial " + issued.serial() + ")"), result.toString());
        assertEquals(new Status("Revoked", 1), status(issued.serial()));
        // Without a terminal the lineage is kept, the revocation recorded for the servers to act on.
        Properties renewal = properties(storage.resolve("renewal/a.example.test.properties"));
        assertEquals(issued.serial(), renewal.getProperty("revoked-serial"));
        assertEquals("keyCompromise", renewal.getProperty("revoked-reason"));
        assertEquals("1", renewal.getProperty("version"));
        assertTrue(Files.isRegularFile(storage.resolve("live/a.example.test/fullchain.pem")));
    }

    @Test
    void deleteAfterRevokeRemovesTheLineage() throws Exception {
        Path storage = work.resolve("storage");
        List<CertifiedKey> issued = issue(storage, "b.example.test;c.example.test");
        Set<String> before = files(storage);

        CommandRunner.Result result = CommandRunner.run("revoke", "--config", config(storage).toString(), "--cert-name", "b.example.test",
                "--delete-after-revoke");

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("Deleted certificate b.example.test"), result.toString());
        assertEquals(new Status("Revoked", 0), status(issued.get(0).serial()));
        assertEquals(new Status("Valid", null), status(issued.get(1).serial()));
        assertEquals(lineageRemoved(before, "b.example.test"), files(storage));
    }

    @Test
    void revokeOfAnUnknownNameExitsOneNamingWhatIsStored() throws Exception {
        Path storage = work.resolve("storage");
        issue(storage, "d.example.test");
        Set<String> before = files(storage);

        CommandRunner.Result result = CommandRunner.run("revoke", "--config", config(storage).toString(), "--cert-name", "nope.example.test");

        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.err().contains("--cert-name: no certificate named 'nope.example.test' in " + storage
                + "; stored: d.example.test"), result.toString());
        assertFalse(result.err().contains("Exception"), result.toString());
        assertEquals(before, files(storage));
    }

    @Test
    void deleteRemovesEveryFileOfTheLineageAndNothingElse() throws Exception {
        Path storage = work.resolve("storage");
        List<CertifiedKey> issued = issue(storage, "e.example.test;f.example.test", "e.example.test");
        assertEquals(2, issued.get(0).version(), "e.example.test renewed once: two versions in its archive");
        Set<String> before = files(storage);
        assertTrue(before.contains("archive/e.example.test/privkey2.pem"), before.toString());

        // Nobody to confirm without a terminal: delete refuses unless told not to ask.
        CommandRunner.Result refused = CommandRunner.run("delete", "--config", config(storage).toString(), "--cert-name", "e.example.test");
        assertEquals(2, refused.exitCode(), refused.toString());
        assertTrue(refused.err().contains("add -n (--non-interactive)"), refused.toString());
        assertEquals(before, files(storage));

        CommandRunner.Result result = CommandRunner.run("delete", "--config", config(storage).toString(), "--cert-name", "e.example.test",
                "-n");

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("Deleted certificate e.example.test from " + storage), result.toString());
        Set<String> after = files(storage);
        assertEquals(lineageRemoved(before, "e.example.test"), after);
        assertTrue(after.stream().noneMatch(f -> f.contains("e.example.test")), after.toString());
        assertTrue(Files.isRegularFile(storage.resolve("live/f.example.test/fullchain.pem"))
                && after.contains("renewal/f.example.test.properties"), after.toString());
        assertEquals(new Status("Valid", null), status(issued.get(0).serial()), "delete revokes nothing");
    }

    @Test
    void revokesAStoredCertificateByItsPath() throws Exception {
        Path storage = work.resolve("storage");
        CertifiedKey issued = issue(storage, "g.example.test").get(0);

        CommandRunner.Result result = CommandRunner.run("revoke", "--config", config(storage).toString(), "--cert-path",
                storage.resolve("live/g.example.test/cert.pem").toString(), "--reason", "superseded");

        assertEquals(0, result.exitCode(), result.toString());
        assertEquals(new Status("Revoked", 4), status(issued.serial()));
        assertEquals(issued.serial(), properties(storage.resolve("renewal/g.example.test.properties")).getProperty("revoked-serial"));
    }

    @Test
    void revokesACertificateFileWithItsOwnKeyWhenNoAccountIsStored() throws Exception {
        Path elsewhere = work.resolve("elsewhere");
        CertifiedKey issued = issue(elsewhere, "h.example.test").get(0);
        Path cert = Files.copy(elsewhere.resolve("live/h.example.test/cert.pem"), work.resolve("cert.pem"));
        Path key = Files.copy(elsewhere.resolve("live/h.example.test/privkey.pem"), work.resolve("privkey.pem"));
        Path empty = work.resolve("empty");

        CommandRunner.Result withoutKey = CommandRunner.run("revoke", "--config", config(empty).toString(), "--cert-path", cert.toString());
        assertEquals(1, withoutKey.exitCode(), withoutKey.toString());
        assertTrue(withoutKey.err().contains("no ACME account for that CA is stored"), withoutKey.toString());
        assertEquals(new Status("Valid", null), status(issued.serial()));

        CommandRunner.Result result = CommandRunner.run("revoke", "--config", config(empty).toString(), "--cert-path", cert.toString(),
                "--key-path", key.toString(), "--reason", "cessationofoperation");

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("signed with the certificate's key"), result.toString());
        assertTrue(result.out().contains("nothing changed in storage"), result.toString());
        assertEquals(new Status("Revoked", 5), status(issued.serial()));
    }

    @Test
    void anUnknownReasonIsAUsageErrorNamingTheChoices() throws Exception {
        CommandRunner.Result result = CommandRunner.run("revoke", "--config", config(work.resolve("storage")).toString(), "--cert-name",
                "a.example.test", "--reason", "compromised");

        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.err().contains("expected one of unspecified, keycompromise, affiliationchanged, superseded, "
                + "cessationofoperation but was 'compromised'"), result.toString());
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Issues the certificates of {@code domains} ({@code autocert.domains} syntax) from Pebble into
     * {@code storage} with the engine, as a server would, then renews each of {@code renew} once.
     *
     * @return what the engine served at the end, one per certificate
     */
    private static List<CertifiedKey> issue(Path storage, String domains, String... renew) throws Exception {
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties()).domains(domains)
                .email("admin@example.test").storage(storage).set("startup-wait", "60s").build();
        try (CertificateManager manager = CertificateManager.builder(settings).build()) {
            tokens = manager.http01Tokens();
            manager.start();
            for (String name : renew) {
                manager.renew(name).get(60, TimeUnit.SECONDS);
            }
            return manager.certificates();
        } finally {
            tokens = null;
        }
    }

    /** The command's settings: this Pebble and {@code storage}. */
    private Path config(Path storage) throws IOException {
        Properties properties = new Properties();
        properties.putAll(PEBBLE.autocertProperties());
        properties.setProperty("autocert.storage", storage.toString());
        Path file = Files.createTempFile(work, "autocert-", ".properties");
        try (Writer writer = Files.newBufferedWriter(file)) {
            properties.store(writer, null);
        }
        return file;
    }

    private static Properties properties(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        }
        return properties;
    }

    /** Every file, directory and link under {@code storage}, relative, hidden ones too; lock files left out. */
    static Set<String> files(Path storage) throws IOException {
        try (Stream<Path> paths = Files.walk(storage)) {
            Set<String> result = new TreeSet<>();
            for (Path path : paths.toList()) {
                String relative = storage.relativize(path).toString();
                if (!relative.isEmpty() && !relative.equals("locks") && !relative.startsWith("locks/")) {
                    result.add(relative + (Files.isSymbolicLink(path) ? " -> " + Files.readSymbolicLink(path)
                            : Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? "/" : ""));
                }
            }
            return result;
        }
    }

    /**
     * What {@code before} holds without the lineage {@code name}: its renewal file, archive, ARI
     * and status records, the {@code live/NAME} link and the set directory it points to.
     */
    static Set<String> lineageRemoved(Set<String> before, String name) {
        Set<String> expected = new TreeSet<>(before);
        List<String> gone = new ArrayList<>();
        for (String entry : before) {
            if (entry.equals("renewal/" + name + ".properties") || entry.equals("ari/" + name + ".properties")
                    || entry.equals("status/" + name + ".properties")
                    || entry.startsWith("archive/" + name + "/") || entry.startsWith("live/" + name + " -> ")
                    || entry.startsWith("live/." + name + ".set-")) {
                gone.add(entry);
            }
        }
        assertTrue(gone.size() >= 10, "the lineage's files: " + gone);
        expected.removeAll(gone);
        return expected;
    }

    /** What Pebble's management API says of a serial: {@code Valid} or {@code Revoked}, and the reason code. */
    record Status(String status, Integer reason) {
    }

    static Status status(PebbleServer pebble, String serial) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(pebble.trustContext()).proxy(HttpClient.Builder.NO_PROXY).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + pebble.managementPort() + "/cert-status-by-serial/" + serial)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), "Pebble's status of serial " + serial + ": " + response.body());
        Matcher status = Pattern.compile("\"Status\"\\s*:\\s*\"(\\w+)\"").matcher(response.body());
        assertTrue(status.find(), response.body());
        Matcher reason = Pattern.compile("\"Reason\"\\s*:\\s*(\\d+)").matcher(response.body());
        return new Status(status.group(1), status.group(1).equals("Revoked") && reason.find() ? Integer.valueOf(reason.group(1)) : null);
    }

    private static Status status(String serial) throws Exception {
        return status(PEBBLE, serial);
    }

    static X509Certificate certificate(Path pem) throws Exception {
        try (var in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }
}
