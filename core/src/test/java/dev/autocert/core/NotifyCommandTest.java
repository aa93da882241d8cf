package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert.notify-command} run by a real engine against Pebble, and for each kind of event:
 * mod_md's {@code MDMessageCmd} arguments and the {@code AUTOCERT_*} details, never a secret.
 */
class NotifyCommandTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);

    @TempDir
    Path dir;

    @Test
    void anEngineRunsItWhenItObtainsACertificate() throws Exception {
        Path log = dir.resolve("notified.log");
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, dir.resolve("storage"), "notify.example.test")
                .notifyCommand("echo \"$1 $2 $AUTOCERT_SERIAL $AUTOCERT_DOMAINS\" >> " + log).build();
        String serial;
        try (CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings).build())) {
            RenewalResult obtained = manager.renewNow("notify.example.test", false);
            assertEquals(RenewalResult.Outcome.OBTAINED, obtained.outcome());
            serial = obtained.certificate().serial();
        }
        String expected = "obtained notify.example.test " + serial + " notify.example.test";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while ((!Files.exists(log) || !Files.readString(log).contains(expected)) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(expected), Files.readAllLines(log));
    }

    @Test
    void anExpiringCertificateGivesTheEventTheErrorAndTheNextAttempt() throws Exception {
        Path out = dir.resolve("env.txt");
        NotifyCommand command = new NotifyCommand("{ echo \"$1 $2\"; env | grep ^AUTOCERT_ | sort; } > " + out);
        CertifiedKey served = Placeholders.create("shop.example.test", List.of("shop.example.test", "www.shop.example.test"),
                Instant.now());
        Instant next = Instant.parse("2027-01-01T00:00:00Z");
        CertificateEvent event = new CertificateEvent(CertificateEvent.Type.EXPIRING, "shop.example.test", served, List.of(served),
                Optional.of(new AutocertException("connection refused by acme.example.test:443")), 7, Optional.of(next), Instant.now());

        command.submit(event).get(30, TimeUnit.SECONDS);

        List<String> lines = Files.readAllLines(out);
        assertEquals("expiring shop.example.test", lines.get(0));
        assertTrue(lines.contains("AUTOCERT_EVENT=expiring"), lines.toString());
        assertTrue(lines.contains("AUTOCERT_DOMAINS=shop.example.test www.shop.example.test"), lines.toString());
        assertTrue(lines.contains("AUTOCERT_ERROR=connection refused by acme.example.test:443"), lines.toString());
        assertTrue(lines.contains("AUTOCERT_ATTEMPT=7"), lines.toString());
        assertTrue(lines.contains("AUTOCERT_NEXT_ATTEMPT=2027-01-01T00:00:00Z"), lines.toString());
        assertTrue(lines.contains("AUTOCERT_PLACEHOLDER=true"), lines.toString());
        assertTrue(lines.stream().noneMatch(l -> l.contains("PRIVATE")), lines.toString());
        assertEquals("inherited-secret", System.getenv("AUTOCERT_STORAGE_PASSWORD"), "set by the build for this test");
        assertTrue(lines.stream().noneMatch(l -> l.contains("inherited-secret")), "the server's own AUTOCERT_* variables are not passed on");
    }

    @Test
    void loadedAndPlaceholderEventsNotifyNothing() {
        NotifyCommand command = new NotifyCommand("exit 1");
        CertifiedKey served = Placeholders.create("a.example.test", List.of("a.example.test"), Instant.now());
        for (CertificateEvent.Type type : List.of(CertificateEvent.Type.LOADED, CertificateEvent.Type.PLACEHOLDER)) {
            assertNull(command.submit(new CertificateEvent(type, "a.example.test", served, List.of(served), Optional.empty(), 0,
                    Optional.empty(), Instant.now())), type.toString());
        }
    }

    /** A slow command behind a burst of failures: a bounded queue, the rest dropped (with a WARN), never a backlog of hours. */
    @Test
    void aBurstBeyondTheQueueIsDroppedNotQueuedForHours() throws Exception {
        Path gate = dir.resolve("gate");
        Path ran = dir.resolve("ran.log");
        // The first run waits for the gate; the others queue behind it.
        NotifyCommand command = new NotifyCommand("while [ ! -e " + gate + " ]; do sleep 0.05; done; echo \"$2\" >> " + ran);
        CertifiedKey served = Placeholders.create("burst.example.test", List.of("burst.example.test"), Instant.now());
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        for (int i = 0; i <= NotifyCommand.QUEUE_LIMIT + 1; i++) {
            runs.add(command.submit(new CertificateEvent(CertificateEvent.Type.FAILED, "n" + i + ".example.test", served,
                    List.of(served), Optional.of(new AutocertException("rate limited")), 1, Optional.empty(), Instant.now())));
        }
        assertTrue(runs.get(NotifyCommand.QUEUE_LIMIT + 1).isCompletedExceptionally(), "one running, " + NotifyCommand.QUEUE_LIMIT
                + " waiting, the next refused at once");
        Files.createFile(gate);
        for (int i = 0; i <= NotifyCommand.QUEUE_LIMIT; i++) {
            runs.get(i).get(60, TimeUnit.SECONDS);
        }
        assertEquals(NotifyCommand.QUEUE_LIMIT + 1, Files.readAllLines(ran).size());
        assertFalse(Files.readAllLines(ran).contains("n" + (NotifyCommand.QUEUE_LIMIT + 1) + ".example.test"));
    }

    @Test
    void aProgramThatDoesNotExistIsRefusedWhenTheSettingsAreBuilt() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> AutocertSettings.fromProperties(Map.of(
                "autocert.domains", "a.example.test", "autocert.agree-tos", "true", "autocert.notify-command", "/nonexistent/notify --now")));
        assertEquals("autocert.notify-command", e.setting());
        assertTrue(e.getMessage().contains("/nonexistent/notify"), e.getMessage());
        assertEquals(Optional.of("logger -t autocert"), AutocertSettings.fromProperties(Map.of("autocert.domains", "a.example.test",
                "autocert.agree-tos", "true", "autocert.notify-command", "  logger -t autocert  ")).notifyCommand());
        assertTrue(Duration.ofMinutes(1).equals(NotifyCommand.TIMEOUT));
    }
}
