package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.testkit.PebbleServer;
import dev.autocert.testkit.StoredCertificates;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert certificates} run as a process: every lineage in storage (configured or not),
 * damaged ones, the outcome an engine that renews them recorded, {@code --cert-name},
 * {@code --json}, and colour only on a terminal.
 */
class CertificatesIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    Path work;

    @Test
    void saysSoWhenThereAreNone() throws Exception {
        Path storage = work.resolve("nothing-here");

        CommandRunner.Result text = CommandRunner.run("certificates", "--storage", storage.toString());
        CommandRunner.Result json = CommandRunner.run("certificates", "--storage", storage.toString(), "--json");

        assertEquals(0, text.exitCode(), text.toString());
        assertEquals("No certificates found in " + storage + ". The directory does not exist: check --storage (autocert.storage) "
                + "or --config.\n", text.out());
        assertEquals(0, json.exitCode(), json.toString());
        assertEquals("[]\n", json.out());
        assertFalse(Files.exists(storage), "listing creates nothing");
    }

    @Test
    void listsEveryLineageInStorageNotOnlyTheConfiguredOnesAndDamagedOnes() throws Exception {
        Path storage = work.resolve("storage");
        StoredCertificates stored = StoredCertificates.create();
        X509Certificate a = stored.store(storage, "a.example.test", PEBBLE.directoryUrl());
        X509Certificate b = stored.store(storage, "b.example.test", PEBBLE.directoryUrl());
        stored.store(storage, "broken.example.test", PEBBLE.directoryUrl());
        Files.delete(storage.resolve("archive/broken.example.test/privkey1.pem"));
        // the server's own settings name only a.example.test
        Path config = work.resolve("autocert.properties");
        Files.writeString(config, "autocert.domains=a.example.test\nautocert.storage=" + storage + "\n");
        var before = StorageFingerprint.of(storage);

        CommandRunner.Result result = CommandRunner.run("certificates", "--config", config.toString());

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().startsWith("Found 3 certificates in " + storage + ":\n"), result.toString());
        List<String> names = result.out().lines().filter(l -> l.startsWith("Certificate Name: ")).toList();
        assertEquals(List.of("Certificate Name: a.example.test", "Certificate Name: b.example.test",
                "Certificate Name: broken.example.test"), names);
        assertTrue(result.out().contains("Serial Number: " + a.getSerialNumber().toString(16)), result.toString());
        assertTrue(result.out().contains("Serial Number: " + b.getSerialNumber().toString(16)), result.toString());
        assertTrue(result.out().contains("Problem: the stored certificate is damaged: archive/broken.example.test/privkey1.pem is missing"),
                result.toString());
        assertTrue(result.out().contains("Last Renewal: none recorded"), result.toString());
        assertTrue(result.out().contains("Version: 1, stored "), result.toString());
        assertEquals(before, StorageFingerprint.of(storage), "listing writes nothing");

        CommandRunner.Result one = CommandRunner.run("certificates", "--config", config.toString(), "--cert-name", "b.example.test",
                "--json");
        assertEquals(0, one.exitCode(), one.toString());
        assertEquals(1, one.out().lines().filter(l -> l.contains("\"name\": ")).count(), one.toString());
        assertTrue(one.out().contains("\"serial\": \"" + b.getSerialNumber().toString(16) + "\""), one.toString());
        assertTrue(one.out().contains("\"lastOutcome\": null"), one.toString());

        CommandRunner.Result damaged = CommandRunner.run("certificates", "--config", config.toString(), "--cert-name",
                "broken.example.test", "--json");
        assertTrue(damaged.out().contains("\"version\": null") && damaged.out().contains("\"valid\": false")
                && damaged.out().contains("\"problem\": \"the stored certificate is damaged: "), damaged.toString());

        CommandRunner.Result unknown = CommandRunner.run("certificates", "--config", config.toString(), "--cert-name", "c.example.test");
        assertEquals(1, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.err().contains("--cert-name: no certificate named 'c.example.test' in " + storage), unknown.toString());
    }

    @Test
    void showsTheOutcomeTheEngineThatRenewsItRecorded() throws Exception {
        Path storage = work.resolve("storage");
        int nobodyListens;
        try (ServerSocket free = new ServerSocket(0)) {
            nobodyListens = free.getLocalPort();
        }
        // A server's engine on this storage: nothing answers Pebble's HTTP-01 requests, so its order fails.
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties())
                .properties(Map.of("autocert.http-port", Integer.toString(nobodyListens)))
                .domains("server.example.test").storage(storage).build();
        CompletableFuture<CertificateEvent> failed = new CompletableFuture<>();
        try (CertificateManager manager = CertificateManager.builder(settings).listener(event -> {
            if (event.type() == CertificateEvent.Type.FAILED) {
                failed.complete(event);
            }
        }).build()) {
            manager.start();
            CertificateEvent event = failed.get(60, TimeUnit.SECONDS);
            manager.stop();

            CommandRunner.Result result = CommandRunner.run("certificates", "--storage", storage.toString());

            assertEquals(0, result.exitCode(), result.toString());
            String error = event.cause().orElseThrow().getMessage();
            assertTrue(result.out().contains("Certificate Name: server.example.test"), result.toString());
            assertTrue(result.out().contains("Problem: no certificate has been issued yet"), result.toString());
            assertTrue(result.out().contains("Last Renewal: FAILED at ") && result.out().contains("(attempt 1, next attempt "
                    + CertificateReport.DATE.format(event.nextAttempt().orElseThrow()) + "): " + error), result.toString());
        }
    }

    @Test
    void showsACertificateRevokedByTheCommandAsRevoked() throws Exception {
        Path storage = work.resolve("storage");
        List<String> pebble = new ArrayList<>(List.of("--storage", storage.toString()));
        PEBBLE.autocertProperties().forEach((key, value) -> pebble.addAll(List.of("--" + key.substring("autocert.".length()), value)));
        CommandRunner.Result obtained = CommandRunner.run(concat(List.of("certonly", "-d", "revoked.example.test"), pebble));
        assertEquals(0, obtained.exitCode(), obtained.toString());
        CommandRunner.Result revoked = CommandRunner.run(concat(List.of("revoke", "--cert-name", "revoked.example.test", "--reason",
                "keycompromise"), pebble));
        assertEquals(0, revoked.exitCode(), revoked.toString());

        CommandRunner.Result text = CommandRunner.run("certificates", "--storage", storage.toString());
        CommandRunner.Result json = CommandRunner.run("certificates", "--storage", storage.toString(), "--json");

        assertTrue(text.out().contains("(INVALID: REVOKED)") && text.out().contains("(keyCompromise)"), text.toString());
        assertTrue(json.out().contains("\"valid\": false, \"revoked\": \"") && json.out().contains("\"revocationReason\": \"keyCompromise\""),
                json.toString());
    }

    private static String[] concat(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        return all.toArray(String[]::new);
    }

    @Test
    void coloursOnlyOnATerminal() throws Exception {
        Path storage = work.resolve("storage");
        StoredCertificates.create().store(storage, "c.example.test", PEBBLE.directoryUrl());

        String onTerminal = onTerminal(Map.of(), "certificates", "--storage", storage.toString());
        String noColour = onTerminal(Map.of("NO_COLOR", "1"), "certificates", "--storage", storage.toString());
        CommandRunner.Result piped = CommandRunner.run("certificates", "--storage", storage.toString());

        assertTrue(onTerminal.contains("\u001b[32mVALID: 88 days\u001b[0m"), onTerminal);
        assertTrue(noColour.contains("(VALID: 88 days)") && !noColour.contains("\u001b["), noColour);
        assertTrue(piped.out().contains("(VALID: 88 days)") && !piped.out().contains("\u001b["), piped.toString());
    }

    /** Runs the command with a pseudo-terminal (script(1)), as in an operator's shell; {@return what it showed} */
    private static String onTerminal(Map<String, String> environment, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add("'" + CommandRunner.home().resolve("bin/autocert") + "'");
        for (String arg : args) {
            command.add("'" + arg + "'");
        }
        ProcessBuilder builder = new ProcessBuilder("script", "-qec", String.join(" ", command), "/dev/null");
        builder.environment().put("TERM", "xterm");
        builder.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        builder.environment().putAll(environment);
        builder.redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        return output;
    }
}
