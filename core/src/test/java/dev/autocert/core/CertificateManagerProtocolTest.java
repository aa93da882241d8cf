package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.Certificate;
import org.shredzone.acme4j.RevocationReason;

/**
 * The protocol of 2026 against Pebble 2.10, which has what bookworm's 2.4 lacks: ARI (RFC 9773)
 * with {@code replaces}, profiles, and IP address identifiers validated for real.
 */
class CertificateManagerProtocolTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String ARI_REQUEST = "renewalInfo/ -> calling";

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder()
            .profile("default", Duration.ofDays(90))
            .profile("shortlived", Duration.ofDays(6))
            .build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);


    @TempDir
    Path storage;

    /** Pebble picks a random profile for an order that names none: these tests always name one. */
    private AutocertSettings.Builder settings(String domains, String profile) {
        return PebbleFixtures.settings(PEBBLE, storage, domains).profile(profile);
    }

    private static CertificateManager manager(AutocertSettings settings, Events events, MutableClock clock) {
        return RESPONDER.serve(CertificateManager.builder(settings).listener(events).clock(clock)
                .storageCheckInterval(Duration.ofMillis(200)).build());
    }

    private static void await(String what, long expected, LongSupplier actual) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (actual.getAsLong() < expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(expected, actual.getAsLong(), what);
    }

    @Test
    void ariIsAskedAtMostTwiceADayAndItsAnswerOutlivesARestart() throws Exception {
        String name = "ari.example.test";
        AutocertSettings settings = settings(name, "default").build();
        long before = PEBBLE.countLogLines(ARI_REQUEST);
        CertifiedKey issued;
        Events first = new Events();
        try (CertificateManager manager = manager(settings, first, new MutableClock())) {
            manager.start();
            issued = first.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
            await("one ARI request for the new certificate", before + 1, () -> PEBBLE.countLogLines(ARI_REQUEST));
            CertificateStatus status = manager.status().get(0);
            assertEquals("ari-window", status.renewalRule().orElseThrow());
            Instant due = status.nextRenewal().orElseThrow();
            // Pebble's window: a third of the lifetime left, give or take a day
            assertTrue(!due.isBefore(issued.notAfter().minus(Duration.ofDays(31))) && !due.isAfter(issued.notAfter().minus(Duration.ofDays(29))),
                    "inside the CA's window: " + due);
        }
        assertTrue(Files.exists(storage.resolve("ari/" + name + ".properties")), "the answer is kept in storage");

        MutableClock clock = new MutableClock();
        Events events = new Events();
        try (CertificateManager manager = manager(settings, events, clock)) {
            manager.start();
            Thread.sleep(1500);
            assertEquals(before + 1, PEBBLE.countLogLines(ARI_REQUEST), "a restart does not ask again");
            clock.advance(Duration.ofHours(11));
            Thread.sleep(1500);
            assertEquals(before + 1, PEBBLE.countLogLines(ARI_REQUEST), "not within 12 hours");
            clock.advance(Duration.ofHours(2));
            await("asked again after 12 hours", before + 2, () -> PEBBLE.countLogLines(ARI_REQUEST));
            Thread.sleep(1500);
            assertEquals(before + 2, PEBBLE.countLogLines(ARI_REQUEST), "and then not again");
            assertEquals(issued.serial(), manager.certificate(name).orElseThrow().serial(), "not due yet");
        }
    }

    @Test
    void aWindowTheCaMovesIntoThePastRenewsAtTheNextCheckReplacingTheOldCertificate() throws Exception {
        String name = "revoked.example.test";
        AutocertSettings settings = settings(name, "default").build();
        CertifiedKey issued;
        Events first = new Events();
        try (CertificateManager manager = manager(settings, first, new MutableClock())) {
            manager.start();
            issued = first.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
        }
        // The CA wants it replaced early: Pebble then serves a window that ended an hour ago.
        KeyPair keyPair = new KeyPair(issued.certificate().getPublicKey(), issued.privateKey());
        Certificate.revoke(new AcmeSessions(settings).open(settings.ca()), keyPair, issued.certificate(), RevocationReason.KEY_COMPROMISE);
        long replacements = PEBBLE.countLogLines("is a replacement of");

        MutableClock clock = new MutableClock();
        clock.advance(Duration.ofHours(13)); // past the stored answer's next check
        Events events = new Events();
        try (CertificateManager manager = manager(settings, events, clock)) {
            manager.start();
            CertifiedKey renewed = events.await(CertificateEvent.Type.RENEWED, name, Duration.ofSeconds(30)).certificate();
            assertFalse(renewed.serial().equals(issued.serial()));
        }
        // Pebble's log is read as it comes: its line for the order may follow the RENEWED event by a moment.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (PEBBLE.countLogLines("is a replacement of") <= replacements && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(replacements + 1, PEBBLE.countLogLines("is a replacement of"), "the order named the certificate it replaces");
    }

    @Test
    void aReplacesTheCaRefusesIsOrderedOnceMoreWithoutIt() throws Exception {
        String name = "replaced.example.test";
        AutocertSettings settings = settings(name, "default").build();
        Events events = new Events();
        try (CertificateManager manager = manager(settings, events, new MutableClock())) {
            manager.start();
            events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT);
            manager.renew(name).get(60, TimeUnit.SECONDS); // version 2 replaces version 1
        }
        // An operator restores version 1 as current: its replacement was already issued.
        Path meta = storage.resolve("renewal/" + name + ".properties");
        Files.writeString(meta, Files.readString(meta).replace("version=2", "version=1"));
        long orders = PEBBLE.countLogLines("POST /order-plz");
        Events again = new Events();
        try (CertificateManager manager = manager(settings, again, new MutableClock())) {
            manager.start();
            assertEquals(1, manager.certificate(name).orElseThrow().version());
            CertifiedKey third = manager.renew(name).get(60, TimeUnit.SECONDS);
            assertEquals(3, third.version());
        }
        assertEquals(orders + 2, PEBBLE.countLogLines("POST /order-plz"), "refused with replaces, then placed without");
    }

    @Test
    void aShortLivedProfileRenewsByItsRealLifetime() throws Exception {
        String name = "short.example.test";
        Events events = new Events();
        try (CertificateManager manager = manager(settings(name, "shortlived").profileRequired(true).build(), events, new MutableClock())) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
            assertTrue(issued.lifetime().compareTo(Duration.ofDays(6)) <= 0 && issued.lifetime().compareTo(Duration.ofDays(5)) > 0,
                    "a six-day certificate: " + issued.lifetime());
            assertEquals(issued.notAfter().minus(issued.lifetime().dividedBy(2)),
                    RenewalPolicy.ratioDue(issued.notBefore(), issued.notAfter()), "without ARI: at half its life");
            Instant due = manager.status().get(0).nextRenewal().orElseThrow();
            assertTrue(due.isBefore(issued.notAfter().minus(Duration.ofHours(23))) && due.isAfter(issued.notBefore()),
                    "within its short life: " + due);
        }
        assertTrue(Files.readString(storage.resolve("renewal/" + name + ".properties")).contains("profile=shortlived"));
    }

    @Test
    void aRequiredProfileTheCaLacksFailsNamingWhatItOffers() throws Exception {
        String name = "tiny.example.test";
        Events events = new Events();
        try (CertificateManager manager = manager(settings(name, "tiny").profileRequired(true).build(), events, new MutableClock())) {
            manager.start();
            String message = events.await(CertificateEvent.Type.FAILED, name, TIMEOUT).cause().orElseThrow().getMessage();
            assertTrue(message.contains("offers default, shortlived but not 'tiny'"), message);
        }
    }

    @Test
    void ipAddressCertificatesAreValidatedOverHttp01() throws Exception {
        Events events = new Events();
        try (CertificateManager manager = manager(settings("127.0.0.1;::1", "default").build(), events, new MutableClock())) {
            manager.start();
            CertifiedKey v4 = events.await(CertificateEvent.Type.OBTAINED, "127.0.0.1", TIMEOUT).certificate();
            CertifiedKey v6 = events.await(CertificateEvent.Type.OBTAINED, "::1", TIMEOUT).certificate();
            assertEquals(List.of("127.0.0.1"), v4.names());
            assertEquals(List.of("::1"), v6.names());
            Chains.verify(v4.chain(), PEBBLE.issuingRoot());
            assertTrue(Files.exists(storage.resolve("live/__1/fullchain.pem")));
        }
    }
}
