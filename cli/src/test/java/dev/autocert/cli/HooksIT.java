package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.Http01Tokens;
import dev.autocert.testkit.PebbleServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deploy, pre and post hooks against a real Pebble: {@code autocert.deploy-hook} run by the
 * engine (as in a server) after each certificate it obtains or renews, and the hooks of {@code
 * autocert renew} run as a process, as an operator's cron job runs it.
 */
class HooksIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    Path work;

    // ---- the engine's autocert.deploy-hook, as a server runs it ----

    @Test
    void theEngineRunsTheDeployHookAfterEachNewCertificateWithCertbotsEnvironmentButNotAtLoad() throws Exception {
        Path storage = work.resolve("storage");
        Path log = work.resolve("deploy.log");
        String name = "engine.example.test";
        AutocertSettings settings = settings(storage, name + ",www." + name)
                .deployHook("{ echo \"== $RENEWED_LINEAGE|$RENEWED_DOMAINS\"; cat \"$RENEWED_LINEAGE/cert.pem\"; } >> " + log).build();

        CertifiedKey obtained;
        CertifiedKey renewed;
        try (Responder responder = new Responder(PEBBLE.httpPort()); CertificateManager manager = engine(settings, responder, null)) {
            manager.start();
            obtained = awaitReal(manager, name);
            List<Deployed> afterObtain = awaitDeployed(log, 1);
            renewed = manager.renew(name).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            List<Deployed> afterRenew = awaitDeployed(log, 2);

            Path lineage = storage.toAbsolutePath().resolve("live/" + name);
            assertEquals(List.of(new Deployed(lineage + "|" + name + " www." + name, obtained.serial()),
                    new Deployed(lineage + "|" + name + " www." + name, renewed.serial())), afterRenew);
            assertEquals(afterObtain.get(0), afterRenew.get(0));
            assertNotEquals(obtained.serial(), renewed.serial());
        }
        // a restart loads the stored certificate: nothing new, so no hook
        try (Responder responder = new Responder(PEBBLE.httpPort()); CertificateManager manager = engine(settings, responder, null)) {
            manager.start();
            assertEquals(renewed.serial(), manager.certificate(name).orElseThrow().serial());
            Thread.sleep(2000);
            assertEquals(2, deployed(log).size(), "no hook for a certificate loaded from storage");
        }
    }

    @Test
    void aSlowAndFailingDeployHookNeverHoldsUpRenewalsOrListeners() throws Exception {
        Path storage = work.resolve("storage");
        Path started = work.resolve("started.log");
        String name = "slow.example.test";
        // every run takes 8 s and fails: the renewals must not wait for it
        AutocertSettings settings = settings(storage, name).deployHook("echo \"$RENEWED_DOMAINS\" >> " + started + "; sleep 8; exit 3")
                .build();
        BlockingQueue<CertificateEvent> events = new LinkedBlockingQueue<>();
        try (Responder responder = new Responder(PEBBLE.httpPort());
                CertificateManager manager = engine(settings, responder, events::add)) {
            manager.start();
            awaitReal(manager, name);
            long start = System.nanoTime();
            CertifiedKey first = manager.renew(name).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            CertifiedKey second = manager.renew(name).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertTrue(took.compareTo(Duration.ofSeconds(8)) < 0, "two renewals took " + took + ", as if they waited for the hook");
            assertEquals(second.serial(), manager.certificate(name).orElseThrow().serial(), "the renewed certificate serves");
            assertNotEquals(first.serial(), second.serial());
            List<CertificateEvent.Type> types = new ArrayList<>();
            events.forEach(e -> types.add(e.type()));
            assertEquals(2, types.stream().filter(t -> t == CertificateEvent.Type.RENEWED).count(), types.toString());
            assertFalse(types.contains(CertificateEvent.Type.FAILED), "a failing hook is not a failed renewal: " + types);
            // the runs are queued, one at a time, on the hook's own thread
            assertTrue(Files.readAllLines(started).size() < 3, "the hook runs one at a time");
        }
    }

    // ---- autocert renew, as a process ----

    @Test
    void renewRunsPreThenDirectoryAndCommandLineDeployHooksThenPostAsAProcess() throws Exception {
        Path storage = work.resolve("storage");
        Path log = work.resolve("hooks.log");
        String name = "cli.example.test";
        CertifiedKey before = obtain(storage, name + ",www." + name);
        directoryHook(storage, "pre", "10-stop", "echo \"pre dir 10\" >> " + log);
        directoryHook(storage, "deploy", "10-copy", "echo \"deploy dir 10 $RENEWED_DOMAINS\" >> " + log);
        directoryHook(storage, "deploy", "20-fails", "echo 'cannot reload'; echo 'reload: no such service' >&2; exit 7");
        directoryHook(storage, "deploy", "30-after", "echo \"deploy dir 30\" >> " + log);
        directoryHook(storage, "post", "10-start", "echo \"post dir 10\" >> " + log);

        CommandRunner.Result result = CommandRunner.run(cli(storage, "renew", "--force-renewal",
                "--pre-hook", "echo pre >> " + log,
                "--deploy-hook", "echo \"deploy $RENEWED_LINEAGE|$RENEWED_DOMAINS\" >> " + log,
                "--post-hook", "echo \"post $RENEWED_DOMAINS|$FAILED_DOMAINS\" >> " + log));

        assertEquals(0, result.exitCode(), "a failing hook does not fail the renewal, as with Certbot\n" + result);
        Path lineage = storage.toAbsolutePath().resolve("live/" + name);
        assertEquals(List.of("pre dir 10", "pre",
                "deploy dir 10 " + name + " www." + name, "deploy dir 30", "deploy " + lineage + "|" + name + " www." + name,
                "post dir 10", "post " + name + " www." + name + "|"), Files.readAllLines(log));
        Path failing = storage.toAbsolutePath().resolve("renewal-hooks/deploy/20-fails");
        assertTrue(result.err().contains("autocert: " + failing + ": the deploy hook for " + name
                + " failed with exit code 7; its last output: cannot reload | reload: no such service"), result.toString());
        assertNotEquals(before.serial(), serial(lineage.resolve("cert.pem")), "renewed");
    }

    @Test
    void aHangingHookIsKilledAfterHookTimeoutAndTheRenewalGoesOn() throws Exception {
        Path storage = work.resolve("storage");
        Path log = work.resolve("hooks.log");
        String name = "hang.example.test";
        CertifiedKey before = obtain(storage, name);

        long start = System.nanoTime();
        CommandRunner.Result result = CommandRunner.run(cli(storage, "renew", "--force-renewal", "--hook-timeout", "2s",
                "--pre-hook", "echo stopping; sleep 300", "--deploy-hook", "echo \"deploy $RENEWED_DOMAINS\" >> " + log));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.err().contains("autocert: --pre-hook: the pre hook did not finish within 2 s and was killed; its last output: "
                + "stopping; make it finish sooner or raise --hook-timeout"), result.toString());
        assertEquals(List.of("deploy " + name), Files.readAllLines(log));
        assertNotEquals(before.serial(), serial(storage.resolve("live/" + name + "/cert.pem")));
        assertTrue(took.compareTo(Duration.ofSeconds(60)) < 0, "took " + took);
    }

    @Test
    void aDryRunRunsThePreAndPostHooksButNoDeployHookAndTheSettingsDeployHookRunsInTheCommand() throws Exception {
        Path storage = work.resolve("storage");
        Path log = work.resolve("hooks.log");
        String name = "dry.example.test";
        CertifiedKey before = obtain(storage, name);
        directoryHook(storage, "deploy", "10-reload", "echo \"deploy dir\" >> " + log);
        Path config = work.resolve("autocert.properties");
        Files.writeString(config, "autocert.deploy-hook=echo \"deploy setting $RENEWED_DOMAINS\" >> " + log + "\n");

        CommandRunner.Result dry = CommandRunner.run(cli(storage, "renew", "--dry-run", "--config", config.toString(),
                "--pre-hook", "echo pre >> " + log, "--post-hook", "echo post >> " + log));

        assertEquals(0, dry.exitCode(), dry.toString());
        assertEquals(List.of("pre", "post"), Files.readAllLines(log));
        assertEquals(before.serial(), serial(storage.resolve("live/" + name + "/cert.pem")), "a dry run stores nothing");

        // for real: the deploy hook of the settings runs in the command that renewed, after the directory's
        CommandRunner.Result real = CommandRunner.run(cli(storage, "renew", "--force-renewal", "--config", config.toString()));

        assertEquals(0, real.exitCode(), real.toString());
        assertEquals(List.of("pre", "post", "deploy dir", "deploy setting " + name), Files.readAllLines(log));
    }

    // ---- helpers ----

    private static AutocertSettings.Builder settings(Path storage, String domains) {
        return AutocertSettings.builder().properties(PEBBLE.autocertProperties()).domains(domains).email("admin@example.test")
                .storage(storage);
    }

    private static CertificateManager engine(AutocertSettings settings, Responder responder,
            dev.autocert.core.CertificateListener listener) {
        CertificateManager.Builder builder = CertificateManager.builder(settings);
        if (listener != null) {
            builder.listener(listener);
        }
        CertificateManager manager = builder.build();
        responder.serve(manager.http01Tokens());
        return manager;
    }

    /** Obtains a certificate into {@code storage} with an engine in this JVM, as a server on the same storage would. */
    private static CertifiedKey obtain(Path storage, String domains) throws Exception {
        AutocertSettings settings = settings(storage, domains).build();
        try (Responder responder = new Responder(PEBBLE.httpPort()); CertificateManager manager = engine(settings, responder, null)) {
            manager.start();
            return awaitReal(manager, settings.certificates().get(0).name());
        }
    }

    private static CertifiedKey awaitReal(CertificateManager manager, String name) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<CertifiedKey> key = manager.certificate(name);
            if (key.isPresent() && !key.get().placeholder()) {
                return key.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("No certificate for " + name + " within " + TIMEOUT + ": " + manager.status());
    }

    /** {@code autocert ARGS} on {@code storage} and this Pebble. */
    private static String[] cli(Path storage, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        for (Map.Entry<String, String> setting : PEBBLE.autocertProperties().entrySet()) {
            all.add("--" + setting.getKey().substring(AutocertSettings.PREFIX.length()) + "=" + setting.getValue());
        }
        all.add("--storage=" + storage);
        all.add("--email=admin@example.test");
        return all.toArray(String[]::new);
    }

    private static void directoryHook(Path storage, String kind, String name, String script) throws IOException {
        Path file = Files.createDirectories(storage.resolve("renewal-hooks").resolve(kind)).resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    }

    private static String serial(Path pem) throws Exception {
        try (var in = Files.newInputStream(pem)) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber().toString(16);
        }
    }

    /** One run of the deploy hook: what it was told, and the serial of the certificate it found in RENEWED_LINEAGE. */
    record Deployed(String environment, String serial) {
    }

    private static List<Deployed> deployed(Path log) throws Exception {
        List<Deployed> result = new ArrayList<>();
        if (!Files.exists(log)) {
            return result;
        }
        String header = null;
        StringBuilder pem = new StringBuilder();
        for (String line : Files.readAllLines(log)) {
            if (line.startsWith("== ")) {
                header = line.substring(3);
                pem.setLength(0);
            } else {
                pem.append(line).append('\n');
                if (line.startsWith("-----END CERTIFICATE")) {
                    X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                            .generateCertificate(new ByteArrayInputStream(pem.toString().getBytes(StandardCharsets.US_ASCII)));
                    result.add(new Deployed(header, certificate.getSerialNumber().toString(16)));
                }
            }
        }
        return result;
    }

    private static List<Deployed> awaitDeployed(Path log, int count) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            List<Deployed> found = deployed(log);
            if (found.size() >= count) {
                return found;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("The deploy hook did not run " + count + " times within " + TIMEOUT + ": " + deployed(log));
    }

    /** A real HTTP server where Pebble validates HTTP-01, answering from an engine's tokens: what a server adapter does. */
    static final class Responder implements AutoCloseable {

        private final List<HttpServer> servers = new ArrayList<>();
        private final List<Http01Tokens> sources = new java.util.concurrent.CopyOnWriteArrayList<>();

        Responder(int port) throws IOException {
            for (String address : List.of("127.0.0.1", "::1")) {
                HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), port), 16);
                server.createContext("/", exchange -> {
                    String path = exchange.getRequestURI().getRawPath();
                    Optional<String> body = sources.stream().map(t -> t.respond(path)).flatMap(Optional::stream).findFirst();
                    byte[] bytes = body.orElse("").getBytes(StandardCharsets.US_ASCII);
                    exchange.sendResponseHeaders(body.isPresent() ? 200 : 404, bytes.length == 0 ? -1 : bytes.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(bytes);
                    }
                });
                server.start();
                servers.add(server);
            }
        }

        void serve(Http01Tokens tokens) {
            sources.add(tokens);
        }

        @Override
        public void close() {
            servers.forEach(s -> s.stop(0));
        }
    }
}
