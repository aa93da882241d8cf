package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CertificateManager#renewNow}, {@link CertificateManager#renewalDue} and {@link
 * CertificateManager#storedCertificates()} against a real Pebble: the synchronous renewal the
 * command line runs without a scheduler, and the outcomes it records for other processes.
 */
class RenewNowTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);

    @TempDir
    Path storage;

    @Test
    void obtainsThenReportsNotDueThenRenewsWhenForcedWithoutAScheduler() throws Exception {
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "now.example.test").build();
        try (CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings).build())) {
            assertFalse(manager.renewalDue("now.example.test").isAfter(Instant.now()), "nothing issued yet: due now");

            RenewalResult obtained = manager.renewNow("now.example.test", false);

            assertEquals(RenewalResult.Outcome.OBTAINED, obtained.outcome(), obtained.failure().map(Throwable::getMessage).orElse(""));
            assertEquals(1, obtained.certificate().version());
            assertFalse(manager.isStarted(), "no scheduler ran");
            Instant due = RenewalPolicy.ratioDue(obtained.certificate().notBefore(), obtained.certificate().notAfter());
            assertEquals(due, manager.renewalDue("now.example.test"));

            RenewalResult notDue = manager.renewNow("now.example.test", false);

            assertEquals(RenewalResult.Outcome.NOT_DUE, notDue.outcome());
            assertEquals(Optional.of(due), notDue.due());
            assertEquals(obtained.certificate().serial(), notDue.certificate().serial());

            RenewalResult renewed = manager.renewNow("now.example.test", true);

            assertEquals(RenewalResult.Outcome.RENEWED, renewed.outcome());
            assertEquals(2, renewed.certificate().version());
            assertEquals(renewed.certificate().serial(), manager.certificate("now.example.test").orElseThrow().serial());
        }
        StoredCertificate stored = only(settings);
        assertEquals(2, stored.current().orElseThrow().number());
        assertEquals(CertificateEvent.Type.RENEWED, stored.lastOutcome().orElseThrow().type());
    }

    @Test
    void reportsBusyWhileAnotherProcessHoldsTheLock() throws Exception {
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "busy.example.test").build();
        try (CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings).build());
                Storage.Lock held = new FileStorage(storage).tryLock("certificate-busy.example.test", Duration.ofMinutes(2)).orElseThrow()) {
            RenewalResult result = manager.renewNow("busy.example.test", true);

            assertEquals(RenewalResult.Outcome.BUSY, result.outcome());
            assertTrue(result.certificate().placeholder());
        }
        assertFalse(Files.exists(storage.resolve("renewal/busy.example.test.properties")), "nothing ordered");
    }

    @Test
    void recordsAFailureThatStoredCertificatesListsWithoutALineage() throws Exception {
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "unanswered.example.test").build();
        // not served by the responder: Pebble's validation finds no answer
        try (CertificateManager manager = CertificateManager.builder(settings).build()) {
            RenewalResult result = manager.renewNow("unanswered.example.test", false);

            assertEquals(RenewalResult.Outcome.FAILED, result.outcome());
            String message = result.failure().orElseThrow().getMessage();
            assertTrue(message.contains("unanswered.example.test"), message);

            List<StoredCertificate> stored = manager.storedCertificates();
            assertEquals(1, stored.size(), stored.toString());
            StoredCertificate failed = stored.get(0);
            assertEquals("unanswered.example.test", failed.name());
            assertFalse(failed.hasLineage());
            assertEquals(Optional.of(StoredCertificate.NEVER_ISSUED), failed.problem());
            StoredCertificate.Outcome outcome = failed.lastOutcome().orElseThrow();
            assertTrue(outcome.failed());
            assertEquals(1, outcome.attempt());
            assertEquals(Optional.of(message), outcome.error());
            assertTrue(outcome.nextAttempt().isPresent());
        }
    }

    @Test
    void storedCertificatesListsLineagesNoSettingNamesAndDamagedOnes() throws Exception {
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "one.example.test;two.example.test").build();
        try (CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings).build())) {
            assertTrue(manager.renewNow("one.example.test", false).issued());
            assertTrue(manager.renewNow("two.example.test", false).issued());
        }
        Files.delete(storage.resolve("archive/two.example.test/privkey1.pem"));
        AutocertSettings none = AutocertSettings.builder().storage(storage).buildWithoutCertificates();

        List<StoredCertificate> stored = CertificateManager.builder(none).build().storedCertificates();

        assertEquals(List.of("one.example.test", "two.example.test"), stored.stream().map(StoredCertificate::name).toList());
        StoredCertificate.Version one = stored.get(0).current().orElseThrow();
        assertEquals(1, one.number());
        assertEquals(Optional.of(KeyType.EC_P256), one.keyType());
        assertEquals(PEBBLE.directoryUrl(), one.ca());
        assertEquals(RenewalPolicy.ratioDue(one.notBefore(), one.notAfter()), one.renewalDue());
        assertEquals(CertificateEvent.Type.OBTAINED, stored.get(0).lastOutcome().orElseThrow().type());
        assertTrue(stored.get(1).current().isEmpty());
        assertTrue(stored.get(1).hasLineage());
        assertTrue(stored.get(1).problem().orElseThrow().contains("privkey1.pem is missing"), stored.get(1).toString());
    }

    @Test
    void runsOnTheSchedulerThreadOfAStartedEngineAndRejectsUnknownNames() throws Exception {
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "started.example.test").build();
        try (CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings).build())) {
            manager.start();
            RenewalResult result = manager.renewNow("started.example.test", true);

            assertTrue(result.issued(), result.toString());
            assertThrows(IllegalArgumentException.class, () -> manager.renewNow("other.example.test", false));
        }
    }

    private static StoredCertificate only(AutocertSettings settings) throws Exception {
        List<StoredCertificate> stored = CertificateManager.builder(settings).build().storedCertificates();
        assertEquals(1, stored.size(), stored.toString());
        return stored.get(0);
    }
}
