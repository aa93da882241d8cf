package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert.ca} with two CAs, both real Pebbles validating on the same port: the second
 * when the first is down or keeps failing, each with its own account, and the first again later.
 */
class CaFallbackTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final PebbleServer FIRST = PebbleServer.builder().build();

    private static PebbleServer second;
    private static ChallengeResponder responder;
    private static Path trust;

    @TempDir
    Path storage;

    @BeforeAll
    static void startSecondCaAndResponder(@TempDir Path dir) throws Exception {
        second = PebbleServer.builder().httpPort(FIRST.httpPort()).build();
        second.start();
        responder = new ChallengeResponder(FIRST.httpPort());
        trust = dir.resolve("both-cas.pem");
        Files.writeString(trust, Files.readString(FIRST.trustPem()) + Files.readString(second.trustPem()));
    }

    @AfterAll
    static void stop() {
        responder.close();
        second.close();
    }

    private AutocertSettings settings(String name) {
        return PebbleFixtures.settings(FIRST, storage, name)
                .ca(FIRST.directoryUrl() + "," + second.directoryUrl())
                .caTrust(trust)
                .build();
    }

    private String issuer(String name) throws Exception {
        return Files.readAllLines(storage.resolve("renewal/" + name + ".properties")).stream()
                .filter(line -> line.startsWith("ca=")).findFirst().orElseThrow().replace("\\:", ":");
    }

    @Test
    void whenTheFirstCaIsDownTheSecondIssuesAndALaterRenewalTriesTheFirstAgain() throws Exception {
        String name = "fallback.example.test";
        AutocertSettings settings = settings(name);
        FIRST.stop();
        Events events = new Events();
        try (CertificateManager manager = responder.serve(CertificateManager.builder(settings).listener(events).build())) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
            Chains.verify(issued.chain(), second.issuingRoot());
            assertEquals("ca=" + second.directoryUrl(), issuer(name), "the lineage records the issuer");
            assertTrue(Files.exists(storage.resolve("accounts/" + Accounts.caDirectoryName(second.directoryUrl()) + "/account.key")));

            FIRST.start();
            CertifiedKey renewed = manager.renew(name).get(60, TimeUnit.SECONDS);
            Chains.verify(renewed.chain(), FIRST.issuingRoot());
            assertEquals("ca=" + FIRST.directoryUrl(), issuer(name));
            assertTrue(Files.exists(storage.resolve("accounts/" + Accounts.caDirectoryName(FIRST.directoryUrl()) + "/account.key")),
                    "each CA has its own account");
        } finally {
            FIRST.start();
        }
    }

    @Test
    void afterRepeatedFailuresWithTheFirstCaTheNextAttemptGoesToTheSecond() throws Exception {
        String name = "failing-first.example.test";
        FIRST.addA(name, "127.0.0.2"); // the first CA validates against an address where nothing listens
        Events events = new Events();
        try (CertificateManager manager = responder.serve(CertificateManager.builder(settings(name)).listener(events).build())) {
            manager.start();
            events.await(CertificateEvent.Type.FAILED, name, TIMEOUT);
            ExecutionException again = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> manager.renew(name).get(60, TimeUnit.SECONDS));
            assertTrue(again.getCause().getMessage().contains("could not validate"), again.getCause().getMessage());
            CertifiedKey issued = manager.renew(name).get(60, TimeUnit.SECONDS);
            Chains.verify(issued.chain(), second.issuingRoot());
            assertEquals("ca=" + second.directoryUrl(), issuer(name));
        }
    }

    @Test
    void changingTheCaKeepsTheOldCertificateServingUntilTheNewCaIssues() throws Exception {
        String name = "moving.example.test";
        Events first = new Events();
        try (CertificateManager manager = responder.serve(CertificateManager.builder(PebbleFixtures.settings(FIRST, storage, name).build())
                .listener(first).build())) {
            manager.start();
            first.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT);
        }
        CertifiedKey old = first.of(CertificateEvent.Type.OBTAINED).get(0).certificate();
        AutocertSettings moved = PebbleFixtures.settings(FIRST, storage, name).ca(second.directoryUrl().toString()).caTrust(trust).build();
        Events events = new Events();
        try (CertificateManager manager = responder.serve(CertificateManager.builder(moved).listener(events).build())) {
            manager.start();
            assertEquals(old.serial(), manager.certificate(name).orElseThrow().serial(), "the old CA's certificate serves on");
            assertTrue(manager.status().get(0).pending().orElseThrow().contains("no longer lists"), manager.status().toString());
            CertifiedKey renewed = events.await(CertificateEvent.Type.RENEWED, name, TIMEOUT).certificate();
            Chains.verify(renewed.chain(), second.issuingRoot());
        }
    }
}
