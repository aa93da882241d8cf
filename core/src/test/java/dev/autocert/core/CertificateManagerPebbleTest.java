package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The engine against a real Pebble that really validates HTTP-01 through a loopback responder. */
class CertificateManagerPebbleTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);


    @TempDir
    Path storage;

    private CertificateManager manager(AutocertSettings settings, Events events) {
        return RESPONDER.serve(CertificateManager.builder(settings).listener(events).build());
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void obtainsSingleAndMultiNameCertificatesForEveryKeyType(KeyType keyType) throws Exception {
        String single = "single-" + keyType.id() + ".example.test";
        String multi = "multi-" + keyType.id() + ".example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage,
                single + ";" + multi + ",www." + multi + ",api." + multi).keyType(keyType).build();
        Events events = new Events();
        try (CertificateManager manager = manager(settings, events)) {
            manager.start();
            assertEquals(2, events.of(CertificateEvent.Type.PLACEHOLDER).size(), "placeholders serve until issuance");
            assertTrue(manager.certificates().stream().allMatch(CertifiedKey::placeholder));

            CertifiedKey one = events.await(CertificateEvent.Type.OBTAINED, single, TIMEOUT).certificate();
            CertifiedKey many = events.await(CertificateEvent.Type.OBTAINED, multi, TIMEOUT).certificate();
            assertEquals(List.of(single), one.names());
            assertEquals(List.of(multi, "www." + multi, "api." + multi).stream().sorted().toList(),
                    many.names().stream().sorted().toList());
            for (CertifiedKey key : List.of(one, many)) {
                assertFalse(key.placeholder());
                assertEquals(1, key.version());
                assertTrue(key.keyMatches());
                assertEquals(keyType, KeyType.of(key.certificate().getPublicKey()).orElseThrow());
                Chains.verify(key.chain(), PEBBLE.issuingRoot());
            }
            assertEquals(List.of(one, many), manager.certificates());
            assertEquals(0, manager.http01Tokens().size(), "tokens are removed once validated");
        }
        assertLineage(multi);
    }

    private void assertLineage(String name) throws Exception {
        for (String kind : List.of("cert", "chain", "fullchain", "privkey")) {
            Path archived = storage.resolve("archive/" + name + "/" + kind + "1.pem");
            Path live = storage.resolve("live/" + name + "/" + kind + ".pem");
            assertEquals(Files.readString(archived), Files.readString(live), kind);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(archived)), kind);
        }
        for (String dir : List.of("archive", "archive/" + name, "live", "live/" + name, "renewal", "accounts")) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(storage.resolve(dir))), dir);
        }
        var fullchain = Pem.decodeCertificates(Files.readAllBytes(storage.resolve("live/" + name + "/fullchain.pem")));
        Chains.verify(fullchain, PEBBLE.issuingRoot());
        var cert = Pem.decodeCertificates(Files.readAllBytes(storage.resolve("live/" + name + "/cert.pem")));
        var chain = Pem.decodeCertificates(Files.readAllBytes(storage.resolve("live/" + name + "/chain.pem")));
        assertEquals(fullchain.get(0), cert.get(0));
        assertEquals(fullchain.subList(1, fullchain.size()), chain);
        var key = Pem.decodePrivateKey(Files.readAllBytes(storage.resolve("live/" + name + "/privkey.pem")));
        assertTrue(CertifiedKey.of(name, key, fullchain).keyMatches());
        String meta = Files.readString(storage.resolve("renewal/" + name + ".properties"));
        assertTrue(meta.contains("version=1"), meta);
    }

    @Test
    void renewingStoresASecondVersionAndTellsListeners() throws Exception {
        String name = "renew.example.test";
        Events events = new Events();
        try (CertificateManager manager = manager(PebbleFixtures.settings(PEBBLE, storage, name).build(), events)) {
            manager.start();
            CertifiedKey first = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
            CertifiedKey second = manager.renew(name).get(60, TimeUnit.SECONDS);
            assertEquals(2, second.version());
            assertNotEquals(first.serial(), second.serial());
            CertificateEvent renewed = events.await(CertificateEvent.Type.RENEWED, name, TIMEOUT);
            assertEquals(second, renewed.certificate());
            assertEquals(List.of(second), renewed.certificates());
            assertEquals(second, manager.certificate(name).orElseThrow());
            assertTrue(Files.exists(storage.resolve("archive/" + name + "/privkey1.pem")), "old versions are kept");
            assertEquals(Files.readString(storage.resolve("archive/" + name + "/fullchain2.pem")),
                    Files.readString(storage.resolve("live/" + name + "/fullchain.pem")));
        }
    }

    @Test
    void aRestartServesTheStoredCertificateBeforeAnyOrder() throws Exception {
        String name = "restart.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).build();
        CertifiedKey issued;
        Events first = new Events();
        try (CertificateManager manager = manager(settings, first)) {
            manager.start();
            issued = first.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
        }
        Events second = new Events();
        try (CertificateManager manager = manager(settings, second)) {
            manager.start();
            // LOADED is published inside start(), before the scheduler runs.
            assertEquals(List.of(CertificateEvent.Type.LOADED), second.all().stream().map(CertificateEvent::type).toList());
            assertEquals(issued.serial(), manager.certificate(name).orElseThrow().serial());
            Thread.sleep(500);
            assertEquals(1, second.all().size(), "nothing due, nothing ordered: " + second.all());
        }
    }

    @Test
    void aDamagedStoredCertificateIsOrderedAnewAndLeftForInspection() throws Exception {
        String name = "damaged.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).build();
        try (CertificateManager manager = manager(settings, new Events())) {
            manager.start();
            manager.renew(name).get(60, TimeUnit.SECONDS);
        }
        Path damaged = storage.resolve("archive/" + name + "/privkey1.pem");
        Files.writeString(storage.resolve("archive/" + name + "/privkey2.pem"), "-----BEGIN PRIVATE KEY-----\ntrunc");
        Events events = new Events();
        try (CertificateManager manager = manager(settings, events)) {
            manager.start();
            assertEquals(CertificateEvent.Type.PLACEHOLDER, events.all().get(0).type(), "a damaged version is not served");
            CertifiedKey fresh = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
            assertEquals(3, fresh.version(), "the next version; the damaged one is not overwritten");
            Chains.verify(fresh.chain(), PEBBLE.issuingRoot());
        }
        assertTrue(Files.exists(damaged));
        assertTrue(Files.readString(storage.resolve("archive/" + name + "/privkey2.pem")).endsWith("trunc"));
    }

    @Test
    void twoManagersSharingStorageOrderOnce() throws Exception {
        String name = "shared.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).build();
        Events a = new Events();
        Events b = new Events();
        try (CertificateManager one = manager(settings, a); CertificateManager two = manager(settings, b)) {
            one.start();
            two.start();
            var real = (java.util.function.Predicate<CertificateEvent>) e -> e.type() == CertificateEvent.Type.OBTAINED
                    || e.type() == CertificateEvent.Type.LOADED;
            CertifiedKey fromA = a.await(1, real, TIMEOUT).get(0).certificate();
            CertifiedKey fromB = b.await(1, real, TIMEOUT).get(0).certificate();
            assertEquals(fromA.serial(), fromB.serial());
            int obtained = a.of(CertificateEvent.Type.OBTAINED).size() + b.of(CertificateEvent.Type.OBTAINED).size();
            assertEquals(1, obtained, "exactly one of them ordered");
            assertEquals(List.of("archive/" + name + "/cert1.pem", "archive/" + name + "/chain1.pem",
                    "archive/" + name + "/fullchain1.pem", "archive/" + name + "/privkey1.pem"),
                    new FileStorage(storage).list("archive/" + name));
        }
    }

    @Test
    void aRequiredProfileTheCaDoesNotOfferFailsWithTheSettingNamed() throws Exception {
        String name = "profile.example.test";
        Events events = new Events();
        try (CertificateManager manager = manager(PebbleFixtures.settings(PEBBLE, storage, name).profile("shortlived")
                .profileRequired(true).build(), events)) {
            manager.start();
            CertificateEvent failed = events.await(CertificateEvent.Type.FAILED, name, TIMEOUT);
            AutocertException cause = failed.cause().orElseThrow();
            assertTrue(cause.getMessage().startsWith("autocert.profile: the CA"), cause.getMessage());
            assertTrue(cause.getMessage().contains("autocert.profile-required"), cause.getMessage());
            assertFalse(cause.retryable());
            assertTrue(failed.certificate().placeholder(), "the placeholder keeps serving");
            assertTrue(failed.nextAttempt().orElseThrow().isAfter(failed.time().plus(Duration.ofHours(4))),
                    "a failure that needs a person waits the longest step");
        }
    }

    @Test
    void aPreferredProfileTheCaDoesNotOfferGetsItsDefault() throws Exception {
        String name = "preferred-profile.example.test";
        Events events = new Events();
        try (CertificateManager manager = manager(PebbleFixtures.settings(PEBBLE, storage, name).profile("shortlived").build(), events)) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
            assertFalse(issued.placeholder());
            assertEquals(List.of(), events.of(CertificateEvent.Type.FAILED), "as Certbot's --preferred-profile: no failure");
            assertFalse(Files.readString(storage.resolve("renewal/" + name + ".properties")).contains("profile="),
                    "the lineage records that no profile was used");
        }
    }

    @Test
    void termsNotAgreedFailWithTheSettingNamed() throws Exception {
        String name = "terms.example.test";
        Events events = new Events();
        try (CertificateManager manager = manager(PebbleFixtures.settings(PEBBLE, storage, name).agreeTos(false).build(), events)) {
            manager.start();
            AutocertException cause = events.await(CertificateEvent.Type.FAILED, name, TIMEOUT).cause().orElseThrow();
            assertTrue(cause.getMessage().startsWith("autocert.agree-tos: the CA " + PEBBLE.directoryUrl()), cause.getMessage());
            assertTrue(cause.getMessage().contains("set autocert.agree-tos=true"), cause.getMessage());
        }
    }

    @Test
    void startupWaitReturnsOnlyWithRealCertificates() throws Exception {
        String name = "wait.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).startupWait(Duration.ofSeconds(60)).build();
        try (CertificateManager manager = manager(settings, new Events())) {
            manager.start();
            CertifiedKey key = manager.certificate(name).orElseThrow();
            assertFalse(key.placeholder());
            Chains.verify(key.chain(), PEBBLE.issuingRoot());
        }
    }

    @Test
    void startupWaitFailsWhenTheCertificateCannotBeHad() {
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "nowait.example.test")
                .agreeTos(false).startupWait(Duration.ofSeconds(3)).build();
        try (CertificateManager manager = manager(settings, new Events())) {
            AutocertException e = org.junit.jupiter.api.Assertions.assertThrows(AutocertException.class, manager::start);
            assertTrue(e.getMessage().contains("autocert.startup-wait"), e.getMessage());
        }
    }

    @Test
    void aThrowingListenerStopsNeitherTheOthersNorTheEngine() throws Exception {
        String name = "listener.example.test";
        Events events = new Events();
        CertificateManager manager = CertificateManager.builder(PebbleFixtures.settings(PEBBLE, storage, name).build())
                .listener(event -> {
                    throw new IllegalStateException("a broken hook");
                })
                .listener(events)
                .build();
        try (manager) {
            RESPONDER.serve(manager).start();
            events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT);
            assertFalse(manager.certificate(name).orElseThrow().placeholder());
        }
    }

    @Test
    void reusesTheAccountAndUpdatesItsContact() throws Exception {
        String name = "account.example.test";
        try (CertificateManager manager = manager(PebbleFixtures.settings(PEBBLE, storage, name).build(), new Events())) {
            manager.start();
            manager.renew(name).get(60, TimeUnit.SECONDS);
        }
        String accountDir = "accounts/" + Accounts.caDirectoryName(PEBBLE.directoryUrl());
        byte[] key = Files.readAllBytes(storage.resolve(accountDir + "/account.key"));
        String location = Files.readString(storage.resolve(accountDir + "/account.properties")).lines()
                .filter(l -> l.startsWith("location=")).findFirst().orElseThrow();
        AutocertSettings changed = PebbleFixtures.settings(PEBBLE, storage, name).email("ops@example.test").build();
        try (CertificateManager manager = manager(changed, new Events())) {
            manager.start();
            manager.renew(name).get(60, TimeUnit.SECONDS);
        }
        assertEquals(new String(key), Files.readString(storage.resolve(accountDir + "/account.key")), "the key is kept");
        String info = Files.readString(storage.resolve(accountDir + "/account.properties"));
        assertTrue(info.contains(location), "same account: " + info);
        assertTrue(info.contains("mailto\\:ops@example.test"), info);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(storage.resolve(accountDir + "/account.key"))));
    }

    @Test
    void renewingAnUnknownNameFails() {
        try (CertificateManager manager = manager(PebbleFixtures.settings(PEBBLE, storage, "known.example.test").build(), new Events())) {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> manager.renew("unknown.example.test").get());
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
        }
    }
}
