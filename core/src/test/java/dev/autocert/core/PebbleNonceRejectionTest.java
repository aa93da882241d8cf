package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Issuance survives a CA that rejects half of all nonces (acme4j retries badNonce). */
class PebbleNonceRejectionTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().nonceRejectPercent(50).build();

    @TempDir
    Path storage;

    @Test
    void obtainsACertificateDespiteRejectedNonces() throws Exception {
        String name = "nonce.example.test";
        Events events = new Events();
        try (ChallengeResponder responder = new ChallengeResponder(PEBBLE.httpPort());
                CertificateManager manager = responder.serve(CertificateManager.builder(
                        PebbleFixtures.settings(PEBBLE, storage, name + ",www." + name).build()).listener(events).build())) {
            manager.start();
            CertifiedKey key = events.await(CertificateEvent.Type.OBTAINED, name, Duration.ofSeconds(90)).certificate();
            assertFalse(key.placeholder());
            Chains.verify(key.chain(), PEBBLE.issuingRoot());
        }
    }
}
