package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A CA that asks clients to wait (Pebble 2.10's Retry-After on authorizations, finalization and orders) is waited for. */
class PebbleRetryAfterTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().retryAfter(Duration.ofSeconds(2), Duration.ofSeconds(2)).build();

    @Test
    void pollsNoSoonerThanTheCaSays(@TempDir Path storage) throws Exception {
        String name = "patient.example.test";
        Events events = new Events();
        // Validation takes a second, so the first poll finds the authorization still being validated.
        try (ChallengeResponder responder = new ChallengeResponder(PEBBLE.httpPort(), Duration.ofSeconds(1));
                CertificateManager manager = responder.serve(CertificateManager.builder(
                        PebbleFixtures.settings(PEBBLE, storage, name).build()).listener(events).build())) {
            long start = System.nanoTime();
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, name, Duration.ofSeconds(60)).certificate();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertFalse(issued.placeholder());
            // Pebble answers a poll of an authorization being validated with Retry-After: 2
            assertTrue(took.compareTo(Duration.ofSeconds(2)) >= 0, "waited as the CA asked: " + took);
            long authorizationPolls = PEBBLE.countLogLines("POST /authZ/");
            assertTrue(authorizationPolls <= 5, "no quick polls against the CA's word: " + authorizationPolls
                    + " authorization requests; polling every 25 ms to 3 s would have made about 10");
        }
    }
}
