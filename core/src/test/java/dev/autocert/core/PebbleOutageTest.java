package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CA outage in the middle of a certificate's life: Pebble issues 20-second certificates, so
 * renewal falls due 10 s after issuance (half-life for short lifetimes); Pebble is down then.
 */
class PebbleOutageTest {

    private static final Duration VALIDITY = Duration.ofSeconds(20);

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().certificateValidity(VALIDITY).build();

    @TempDir
    Path storage;

    @Test
    void keepsServingThroughAnOutageAndRenewsWhenTheCaReturns() throws Exception {
        String name = "outage.example.test";
        Events events = new Events();
        RetrySchedule fast = RetrySchedule.of(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2)), 0.1);
        try (ChallengeResponder responder = new ChallengeResponder(PEBBLE.httpPort());
                CertificateManager manager = responder.serve(CertificateManager.builder(
                        PebbleFixtures.settings(PEBBLE, storage, name).build()).listener(events).retrySchedule(fast).build())) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, name, Duration.ofSeconds(30)).certificate();
            assertEquals(VALIDITY.minusSeconds(1), issued.lifetime(), "Pebble's validity period, less its one second");
            String storedChain = Files.readString(storage.resolve("live/" + name + "/fullchain.pem"));

            PEBBLE.stop();
            List<CertificateEvent> failures = events.await(3, e -> e.type() == CertificateEvent.Type.FAILED, Duration.ofSeconds(30));
            for (CertificateEvent failure : failures) {
                assertEquals(issued, failure.certificate(), "the working certificate stays published");
                assertTrue(failure.cause().orElseThrow().retryable(), failure.cause().toString());
            }
            // The ladder: 1 s after the first failure, then 2 s (±10 %).
            assertBetween(Duration.ofMillis(900), Duration.ofMillis(1100), failures.get(0));
            assertBetween(Duration.ofMillis(1800), Duration.ofMillis(2200), failures.get(1));
            assertEquals(List.of(1, 2, 3), failures.stream().map(CertificateEvent::attempt).toList());
            assertEquals(issued, manager.certificate(name).orElseThrow());
            assertEquals(storedChain, Files.readString(storage.resolve("live/" + name + "/fullchain.pem")),
                    "failed renewals never touch storage");

            PEBBLE.start();
            CertifiedKey renewed = events.await(CertificateEvent.Type.RENEWED, name, Duration.ofSeconds(30)).certificate();
            assertEquals(2, renewed.version());
            assertFalse(renewed.placeholder());
            Chains.verify(renewed.chain(), PEBBLE.issuingRoot());
            assertTrue(renewed.notAfter().isAfter(issued.notAfter()));
        }
    }

    private static void assertBetween(Duration min, Duration max, CertificateEvent failure) {
        Duration wait = Duration.between(failure.time(), failure.nextAttempt().orElseThrow());
        assertTrue(wait.compareTo(min) >= 0 && wait.compareTo(max) <= 0, "waited " + wait);
    }
}
