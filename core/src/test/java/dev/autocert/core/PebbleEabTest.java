package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** External account binding against a Pebble that requires it. */
class PebbleEabTest {

    private static final String KID = "kid-autocert";
    private static final String HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().externalAccountBinding(KID, HMAC).build();

    @TempDir
    Path storage;

    @Test
    void registersWithTheBindingAndObtainsACertificate() throws Exception {
        String name = "eab.example.test";
        Events events = new Events();
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).externalAccountBinding(KID, HMAC).build();
        try (ChallengeResponder responder = new ChallengeResponder(PEBBLE.httpPort());
                CertificateManager manager = responder.serve(CertificateManager.builder(settings).listener(events).build())) {
            manager.start();
            CertifiedKey key = events.await(CertificateEvent.Type.OBTAINED, name, Duration.ofSeconds(60)).certificate();
            Chains.verify(key.chain(), PEBBLE.issuingRoot());
        }
    }

    @Test
    void withoutTheBindingFailsNamingTheSettingAndNeverTheKey() throws Exception {
        String name = "noeab.example.test";
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(PebbleFixtures.settings(PEBBLE, storage, name).build())
                .listener(events).build()) {
            manager.start();
            AutocertException cause = events.await(CertificateEvent.Type.FAILED, name, Duration.ofSeconds(30)).cause().orElseThrow();
            assertTrue(cause.getMessage().startsWith("autocert.eab-kid: the CA"), cause.getMessage());
            assertFalse(cause.retryable());
        }
    }

    @Test
    void aWrongHmacKeyFailsWithoutShowingIt() throws Exception {
        String name = "wrongeab.example.test";
        String wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        Events events = new Events();
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).externalAccountBinding(KID, wrong).build();
        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            manager.start();
            AutocertException cause = events.await(CertificateEvent.Type.FAILED, name, Duration.ofSeconds(30)).cause().orElseThrow();
            for (Throwable t = cause; t != null; t = t.getCause()) {
                assertFalse(String.valueOf(t.getMessage()).contains(wrong), t.toString());
                assertFalse(String.valueOf(t.getMessage()).contains(HMAC), t.toString());
            }
        }
    }
}
