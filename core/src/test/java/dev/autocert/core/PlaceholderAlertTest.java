package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * {@code autocert.placeholder-alert} against a real Pebble: a certificate whose first order never
 * succeeds, so that its self-signed placeholder is still served, counts as expiring once the
 * alert's time has passed (an {@code EXPIRING} event, the notify command, the status page {@code
 * DOWN}), and not before, nor once a real certificate serves, nor for names obtained on demand.
 * A test clock moves hours forward; Pebble fails the orders because nothing answers the engine's
 * HTTP-01 challenges until the test lets the responder answer them.
 */
class PlaceholderAlertTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);

    @TempDir
    Path dir;

    private Path storage() {
        return dir.resolve("storage");
    }

    private static List<CertificateEvent> expiring(Events events, String name) {
        return events.all().stream().filter(e -> e.type() == CertificateEvent.Type.EXPIRING && e.name().equals(name)).toList();
    }

    private static CertificateEvent failure(Events events, String name, int attempt) throws InterruptedException {
        return events.await(1, e -> e.type() == CertificateEvent.Type.FAILED && e.name().equals(name) && e.attempt() == attempt,
                TIMEOUT).get(0);
    }

    private static void awaitLine(Path file, String line) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!(Files.exists(file) && Files.readAllLines(file).contains(line))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no line '" + line + "' in " + (Files.exists(file) ? Files.readAllLines(file) : "(no file)"));
            }
            Thread.sleep(50);
        }
    }

    @Test
    void aPlaceholderStillServedAnHourAfterStartIsExpiringUntilTheCertificateArrives() throws Exception {
        String name = "never.example.test";
        Path notified = dir.resolve("notified.log");
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage(), name)
                .notifyCommand("echo \"$1 $2 $AUTOCERT_PLACEHOLDER\" >> " + notified).build();
        assertEquals(Duration.ofHours(1), settings.placeholderAlert(), "the default");
        MutableClock clock = new MutableClock();
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(settings).clock(clock).listener(events).build()) {
            Instant started = clock.instant();
            manager.start();

            // Younger than the alert: a failed first order is no alarm yet.
            CertificateEvent first = failure(events, name, 1);
            assertTrue(first.certificate().placeholder());
            CertificateStatus young = manager.status().get(0);
            assertFalse(young.expiring(clock.instant()), "the placeholder is younger than autocert.placeholder-alert");
            Instant alertAt = young.placeholderAlertAt().orElseThrow();
            assertFalse(alertAt.isBefore(started.plus(Duration.ofHours(1))), alertAt + " is an hour after " + started);
            assertFalse(alertAt.isAfter(clock.instant().plus(Duration.ofHours(1))), alertAt.toString());
            assertTrue(StatusPage.healthy(manager.status(), clock.instant()));
            assertEquals(List.of(), expiring(events, name));

            // An hour later the next attempt fails too: now it is expiring, with that failure as the cause.
            clock.advance(Duration.ofHours(1));
            CertificateEvent second = failure(events, name, 2);
            CertificateEvent alert = events.await(CertificateEvent.Type.EXPIRING, name, TIMEOUT);
            assertTrue(alert.certificate().placeholder(), "the event is the placeholder's");
            assertEquals(2, alert.attempt());
            assertEquals(second.cause().orElseThrow().getMessage(), alert.cause().orElseThrow().getMessage());
            assertEquals(second.nextAttempt(), alert.nextAttempt());

            CertificateStatus old = manager.status().get(0);
            assertTrue(old.expiring(clock.instant()));
            String json = StatusPage.json(manager.status(), clock.instant());
            assertTrue(json.startsWith("{\"status\":\"DOWN\""), json);
            assertTrue(json.contains("\"placeholder\":true"), json);
            assertTrue(json.contains("\"expiring\":true"), json);
            assertFalse(StatusPage.healthy(manager.status(), clock.instant()));
            awaitLine(notified, "failed " + name + " true");
            awaitLine(notified, "expiring " + name + " true");

            // Once per failed attempt: the ticks until the next one add nothing.
            Thread.sleep(2500);
            assertEquals(1, expiring(events, name).size(), "not repeated while no attempt is made");

            // The CA can validate now: the certificate arrives and nothing is expiring any more.
            RESPONDER.serve(manager);
            clock.advance(Duration.ofHours(1));
            CertificateEvent obtained = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT);
            CertificateStatus now = manager.status().get(0);
            assertFalse(now.served().placeholder());
            assertEquals(obtained.certificate().serial(), now.served().serial());
            assertEquals(Optional.empty(), now.placeholderAlertAt());
            assertFalse(now.expiring(clock.instant()));
            assertTrue(StatusPage.json(manager.status(), clock.instant()).startsWith("{\"status\":\"UP\""));
            awaitLine(notified, "obtained " + name + " false");
        }
        assertEquals(1, Files.readAllLines(notified).stream().filter(l -> l.startsWith("expiring ")).count(),
                Files.readAllLines(notified).toString());
    }

    @Test
    void theAlertComesOnceWhenItsTimePassesBetweenAttemptsAndAgainAtTheNextFailure() throws Exception {
        String name = "slowretry.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage(), name).placeholderAlert(Duration.ofMinutes(30)).build();
        MutableClock clock = new MutableClock();
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(settings).clock(clock).listener(events)
                .retrySchedule(RetrySchedule.of(List.of(Duration.ofHours(6)), 0)).build()) {
            manager.start();
            CertificateEvent first = failure(events, name, 1);

            // No attempt for six hours: the alert does not wait for one.
            clock.advance(Duration.ofMinutes(31));
            CertificateEvent alert = events.await(CertificateEvent.Type.EXPIRING, name, TIMEOUT);
            assertEquals(first.cause().orElseThrow().getMessage(), alert.cause().orElseThrow().getMessage(), "the last error");
            assertEquals(1, alert.attempt());
            assertTrue(manager.status().get(0).expiring(clock.instant()));
            Thread.sleep(2500);
            assertEquals(1, expiring(events, name).size(), "one alert, not one per tick");
            assertEquals(1, events.of(CertificateEvent.Type.FAILED).size());

            clock.advance(Duration.ofHours(6));
            failure(events, name, 2);
            events.await(2, e -> e.type() == CertificateEvent.Type.EXPIRING && e.name().equals(name), TIMEOUT);
            Thread.sleep(1500);
            assertEquals(2, expiring(events, name).size(), "and one per failed attempt after that");
        }
    }

    @Test
    void withoutAFailureTheAlertSaysWhatToCheck() throws Exception {
        String name = "locked.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage(), name).placeholderAlert(Duration.ofMinutes(10)).build();
        FileStorage other = new FileStorage(storage()); // another process, ordering this certificate
        other.open();
        MutableClock clock = new MutableClock();
        Events events = new Events();
        try (Storage.Lock held = other.tryLock("certificate-" + settings.certificates().get(0).storageName(), Duration.ofMinutes(1))
                        .orElseThrow();
                CertificateManager manager = CertificateManager.builder(settings).clock(clock).listener(events).build()) {
            manager.start();
            Thread.sleep(1500); // a tick: the lock is busy, nothing fails
            assertEquals(List.of(CertificateEvent.Type.PLACEHOLDER), events.all().stream().map(CertificateEvent::type).toList());

            clock.advance(Duration.ofMinutes(10));
            CertificateEvent alert = events.await(CertificateEvent.Type.EXPIRING, name, TIMEOUT);
            String message = alert.cause().orElseThrow().getMessage();
            assertTrue(message.startsWith("Certificate " + name + ": still serving the self-signed placeholder after 10m"), message);
            assertTrue(message.contains("no order of this process has failed"), message);
            assertTrue(message.contains("[" + name + "]") && message.contains("http-01 on port 80"), message);
            assertEquals(0, alert.attempt());
            assertTrue(manager.status().get(0).expiring(clock.instant()));
            Thread.sleep(2500);
            assertEquals(1, expiring(events, name).size());
        } finally {
            other.close();
        }
    }

    @Test
    void zeroTurnsTheAlertOff() throws Exception {
        String name = "quiet.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage(), name).set("placeholder-alert", "0").build();
        MutableClock clock = new MutableClock();
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(settings).clock(clock).listener(events).build()) {
            manager.start();
            failure(events, name, 1);
            clock.advance(Duration.ofDays(2));
            failure(events, name, 2);
            Thread.sleep(1500);
            assertEquals(List.of(), expiring(events, name));
            CertificateStatus status = manager.status().get(0);
            assertEquals(Optional.empty(), status.placeholderAlertAt());
            assertFalse(status.expiring(clock.instant()));
        }
    }

    @Test
    void aNameObtainedOnDemandIsNeverAlertedOn() throws Exception {
        String configured = "shop.example.test";
        String onDemand = "a.customers.example.test";
        PEBBLE.addA(onDemand, "127.0.0.2"); // nothing listens there: its orders fail
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage(), configured).onDemand("*.customers.example.test")
                .placeholderAlert(Duration.ofMinutes(5)).build();
        MutableClock clock = new MutableClock();
        Events events = new Events();
        try (CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings).clock(clock).listener(events)
                        .onDemandWait(Duration.ofMillis(200)).build());
                LoopbackTlsServer server = new LoopbackTlsServer(manager.keyManager())) {
            manager.start();
            events.await(CertificateEvent.Type.OBTAINED, configured, TIMEOUT);
            server.served(onDemand); // its first handshake orders it, and gets the default certificate meanwhile
            failure(events, onDemand, 1);

            clock.advance(Duration.ofHours(1));
            failure(events, onDemand, 2);
            Thread.sleep(1500);
            assertEquals(List.of(), events.of(CertificateEvent.Type.EXPIRING));
            CertificateStatus status = manager.status().stream().filter(s -> s.name().equals(onDemand)).findFirst().orElseThrow();
            assertEquals(Optional.empty(), status.placeholderAlertAt());
            assertTrue(StatusPage.healthy(manager.status(), clock.instant()), StatusPage.json(manager.status(), clock.instant()));
        }
    }
}
