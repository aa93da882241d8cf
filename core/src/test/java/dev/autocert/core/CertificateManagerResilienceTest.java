package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine never loses the working certificate and never misleads its operator: settings
 * changes, storage that cannot be read, damaged files, shared storage, lifecycle. Against a real
 * Pebble that really validates HTTP-01.
 */
class CertificateManagerResilienceTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);


    @TempDir
    Path storage;

    private static CertificateManager served(CertificateManager.Builder builder) {
        return RESPONDER.serve(builder.storageCheckInterval(Duration.ofMillis(200)).build());
    }

    private CertifiedKey obtain(AutocertSettings settings) throws Exception {
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(settings).listener(events))) {
            manager.start();
            return events.await(CertificateEvent.Type.OBTAINED, settings.certificates().get(0).name(), TIMEOUT).certificate();
        }
    }

    /** Makes Pebble validate {@code name} against an address where nothing listens, so its orders fail. */
    private static void unreachable(String name) {
        PEBBLE.addA(name, "127.0.0.2");
    }

    @Test
    void anAddedNameThatCannotBeValidatedLeavesTheOldCertificateServingTheOthers() throws Exception {
        String name = "grow.example.test";
        String added = "new.grow.example.test";
        CertifiedKey old = obtain(PebbleFixtures.settings(PEBBLE, storage, name).build());
        unreachable(added);
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(
                PebbleFixtures.settings(PEBBLE, storage, name + "," + added).build()).listener(events))) {
            manager.start();
            assertEquals(old.serial(), manager.certificate(name).orElseThrow().serial(), "the stored certificate serves at once");
            assertEquals(List.of(), events.of(CertificateEvent.Type.PLACEHOLDER).stream()
                    .filter(e -> e.certificate().names().contains(name)).toList(), "no placeholder for a covered name");
            List<CertifiedKey> served = manager.certificates();
            assertEquals(2, served.size());
            assertEquals(old.serial(), served.get(0).serial());
            assertTrue(served.get(1).placeholder());
            assertEquals(List.of(added), served.get(1).names(), "only the added name waits on a placeholder");

            CertificateEvent failed = events.await(CertificateEvent.Type.FAILED, name, TIMEOUT);
            assertEquals(old.serial(), failed.certificate().serial(), "a failed order leaves the working certificate");
            CertificateStatus status = manager.status().get(0);
            assertEquals(List.of(added), status.waiting());
            assertTrue(status.pending().orElseThrow().contains("names added to autocert.domains: [" + added + "]"), status.pending().toString());
            assertTrue(status.lastError().orElseThrow().contains(added), status.lastError().toString());
            assertEquals(old.serial(), manager.certificate(name).orElseThrow().serial());
        }
    }

    @Test
    void aChangedKeyTypeKeepsServingTheStoredCertificateUntilItsReplacementArrives() throws Exception {
        String name = "rekey.example.test";
        CertifiedKey old = obtain(PebbleFixtures.settings(PEBBLE, storage, name).build());
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(
                PebbleFixtures.settings(PEBBLE, storage, name).keyType(KeyType.RSA_2048).build()).listener(events))) {
            manager.start();
            assertEquals(List.of(CertificateEvent.Type.LOADED), events.all().stream().map(CertificateEvent::type).toList());
            assertEquals(old.serial(), manager.certificate(name).orElseThrow().serial());
            assertTrue(manager.status().get(0).pending().orElseThrow().contains("autocert.key-type is rsa-2048"));
            CertifiedKey renewed = events.await(CertificateEvent.Type.RENEWED, name, TIMEOUT).certificate();
            assertEquals(KeyType.RSA_2048, KeyType.of(renewed.certificate().getPublicKey()).orElseThrow());
            assertEquals(java.util.Optional.empty(), manager.status().get(0).pending());
        }
    }

    @Test
    void anotherSpellingOfTheCaUrlOrdersNothing() throws Exception {
        String name = "spelling.example.test";
        CertifiedKey old = obtain(PebbleFixtures.settings(PEBBLE, storage, name).build());
        long orders = PEBBLE.countLogLines("POST /order-plz");
        String respelled = PEBBLE.directoryUrl().toString().replace("localhost", "LOCALHOST");
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(
                PebbleFixtures.settings(PEBBLE, storage, name).ca(respelled).build()).listener(events))) {
            manager.start();
            Thread.sleep(1500); // a scheduler tick or more
            assertEquals(old.serial(), manager.certificate(name).orElseThrow().serial());
            assertEquals(java.util.Optional.empty(), manager.status().get(0).pending());
        }
        assertEquals(orders, PEBBLE.countLogLines("POST /order-plz"), "the same CA, however spelled: no new order");
    }

    @Test
    void aRenamedCertificateKeepsServingFromItsOldLineage() throws Exception {
        String oldFirst = "rename.example.test";
        String newFirst = "first.rename.example.test";
        CertifiedKey old = obtain(PebbleFixtures.settings(PEBBLE, storage, oldFirst).build());
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(
                PebbleFixtures.settings(PEBBLE, storage, newFirst + "," + oldFirst).build()).listener(events))) {
            manager.start();
            assertEquals(old.serial(), manager.certificate(newFirst).orElseThrow().serial());
            CertifiedKey renewed = events.await(CertificateEvent.Type.RENEWED, newFirst, TIMEOUT).certificate();
            assertTrue(renewed.names().containsAll(List.of(newFirst, oldFirst)));
        }
    }

    @Test
    void aStorageReadErrorIsRetriedNotTakenForDamage() throws Exception {
        String name = "flaky.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).build();
        CertifiedKey stored = obtain(settings);
        long orders = PEBBLE.countLogLines("POST /order-plz");

        // a read that fails once at start is retried at once
        Events once = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(settings)
                .storage(new FailingReads(new FileStorage(storage), 1)).listener(once))) {
            manager.start();
            assertEquals(List.of(CertificateEvent.Type.LOADED), once.all().stream().map(CertificateEvent::type).toList());
        }

        // reads that keep failing for a while: a placeholder, reported as a read error, and no order
        FailingReads failing = new FailingReads(new FileStorage(storage), 6);
        Events events = new Events();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        try (CertificateManager manager = served(CertificateManager.builder(settings).storage(failing).listener(events))) {
            manager.start();
            assertTrue(manager.certificate(name).orElseThrow().placeholder());
            CertificateEvent loaded = events.await(CertificateEvent.Type.LOADED, name, Duration.ofSeconds(10));
            assertEquals(stored.serial(), loaded.certificate().serial(), "installed once storage reads again");
        } finally {
            System.setErr(stderr);
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("Cannot read certificate " + name), text);
        assertFalse(text.contains("damaged"), "a read error is not damage: " + text);
        assertEquals(orders, PEBBLE.countLogLines("POST /order-plz"), "nothing was ordered");
    }

    @Test
    void damageIsReportedOncePerStartAndOrderedAnew() throws Exception {
        String name = "damaged.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).build();
        obtain(settings);
        Files.writeString(storage.resolve("archive/" + name + "/privkey1.pem"), "-----BEGIN PRIVATE KEY-----\ngarbage\n");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(settings).listener(events))) {
            manager.start();
            events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT);
        } finally {
            System.setErr(stderr);
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.lines().filter(l -> l.contains("Stored certificate " + name) && l.contains("is damaged")).count(), text);
        assertTrue(Files.exists(storage.resolve("archive/" + name + "/privkey1.pem")), "damaged files stay for a person");
        assertTrue(Files.exists(storage.resolve("archive/" + name + "/privkey2.pem")));
    }

    @Test
    void aLiveSetLeftBehindByACrashIsRepairedAtStart() throws Exception {
        String name = "live.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).build();
        obtain(settings);
        Path live = storage.resolve("live/" + name + "/privkey.pem");
        Files.writeString(live, Files.readString(storage.resolve("archive/" + name + "/cert1.pem")));
        try (CertificateManager manager = served(CertificateManager.builder(settings))) {
            manager.load();
        }
        assertEquals(Files.readString(storage.resolve("archive/" + name + "/privkey1.pem")), Files.readString(live));
    }

    @Test
    void theAccountIsUsedByItsUrlNotRegisteredAgain() throws Exception {
        String name = "account.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).build();
        obtain(settings);
        long registrations = PEBBLE.countLogLines("POST /sign-me-up");
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(settings).listener(events))) {
            manager.start();
            manager.renew(name).get(60, TimeUnit.SECONDS);
        }
        assertEquals(registrations, PEBBLE.countLogLines("POST /sign-me-up"), "no newAccount request at a restart");
        String info = Files.readString(storage.resolve("accounts/" + Accounts.caDirectoryName(PEBBLE.directoryUrl()) + "/account.properties"));
        assertTrue(info.contains("location="), info);
    }

    @Test
    void aDamagedAccountKeyIsReportedWithTheFix() throws Exception {
        String name = "badaccount.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name).build();
        Path key = storage.resolve("accounts/" + Accounts.caDirectoryName(PEBBLE.directoryUrl()) + "/account.key");
        Files.createDirectories(key.getParent());
        Files.writeString(key, "-----BEGIN EC PRIVATE KEY-----\nnot a key\n");
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(settings).listener(events))) {
            manager.start();
            AutocertException cause = events.await(CertificateEvent.Type.FAILED, name, TIMEOUT).cause().orElseThrow();
            assertTrue(cause.getMessage().contains("account key accounts/"), cause.getMessage());
            assertTrue(cause.getMessage().contains("is damaged; restore it from a backup, or move it away"), cause.getMessage());
            assertFalse(cause.retryable());
        }
    }

    @Test
    void aCertificateAnotherProcessStoredIsInstalledWithinSeconds() throws Exception {
        String name = "shared.example.test";
        Path elsewhere = Files.createDirectory(storage.resolve("elsewhere"));
        Path mine = Files.createDirectory(storage.resolve("mine"));
        Events events = new Events();
        // Not served by the responder: its challenges get 404, its orders fail, its next retry is a minute away.
        try (CertificateManager failing = CertificateManager.builder(PebbleFixtures.settings(PEBBLE, mine, name).build())
                .storageCheckInterval(Duration.ofMillis(500)).listener(events).build()) {
            failing.start();
            events.await(CertificateEvent.Type.FAILED, name, TIMEOUT);
            CertifiedKey issued = obtain(PebbleFixtures.settings(PEBBLE, elsewhere, name).build());
            copyTree(elsewhere, mine); // what a node sharing the storage would have written
            Instant copied = Instant.now();
            CertificateEvent loaded = events.await(CertificateEvent.Type.LOADED, name, Duration.ofSeconds(5));
            assertEquals(issued.serial(), loaded.certificate().serial());
            assertTrue(Duration.between(copied, loaded.time()).compareTo(Duration.ofSeconds(5)) < 0);
            assertEquals(0, failing.status().get(0).failures());
        }
    }

    @Test
    void aLooseStorageDirectoryIsTightenedBeforeAKeyIsWritten() throws Exception {
        Path dir = storage.resolve("loose");
        Files.createDirectories(dir.resolve("archive"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir.resolve("archive"), PosixFilePermissions.fromString("rwxrwxrwx"));
        try (CertificateManager manager = served(CertificateManager.builder(PebbleFixtures.settings(PEBBLE, dir, "loose.example.test").build()))) {
            manager.load();
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("archive"))));
    }

    @Test
    void aStorageDirectoryThatCannotBeWrittenIsReportedAtStartInOneLine() throws Exception {
        Path file = Files.writeString(storage.resolve("a-file"), "not a directory");
        Path dir = file.resolve("autocert");
        try (CertificateManager manager = CertificateManager.builder(PebbleFixtures.settings(PEBBLE, dir, "nowrite.example.test").build()).build()) {
            InvalidSettingException e = assertThrows(InvalidSettingException.class, manager::load);
            assertEquals("autocert.storage", e.setting());
            assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("Not a directory"), "the OS error: " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void aFailureNamesItsCause() throws Exception {
        int closed = freePort();
        String name = "cause.example.test";
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, name)
                .ca("https://localhost:" + closed + "/dir").build();
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            manager.start();
            String message = events.await(CertificateEvent.Type.FAILED, name, TIMEOUT).cause().orElseThrow().getMessage();
            assertTrue(message.contains("connection refused by localhost:" + closed), message);
        }
    }

    @Test
    void thePlaceholderIsMadeAnewBeforeItExpires() throws Exception {
        String name = "longwait.example.test";
        unreachable(name);
        MutableClock clock = new MutableClock();
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(PebbleFixtures.settings(PEBBLE, storage, name).build())
                .clock(clock).listener(events).build()) {
            manager.start();
            CertifiedKey first = manager.certificate(name).orElseThrow();
            clock.advance(Duration.ofDays(6));
            CertificateEvent again = events.await(2, e -> e.type() == CertificateEvent.Type.PLACEHOLDER, Duration.ofSeconds(10)).get(1);
            assertTrue(again.certificate().notAfter().isAfter(clock.instant().plus(Duration.ofDays(5))), "valid for days more");
            assertNotEquals(first.serial(), again.certificate().serial());
        }
    }

    @Test
    void theEngineStopsAndStartsAgain() throws Exception {
        String name = "restartable.example.test";
        Events events = new Events();
        try (CertificateManager manager = served(CertificateManager.builder(PebbleFixtures.settings(PEBBLE, storage, name).build())
                .listener(events))) {
            manager.start();
            CertifiedKey first = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
            manager.stop();
            assertFalse(manager.isStarted());
            manager.start(); // as Tomcat's re-init or a Spring context refresh does
            assertTrue(manager.isStarted());
            CertifiedKey second = manager.renew(name).get(60, TimeUnit.SECONDS);
            assertNotEquals(first.serial(), second.serial());
        }
    }

    @Test
    void loadFromManyThreadsPublishesOnce() throws Exception {
        String name = "threads.example.test";
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(PebbleFixtures.settings(PEBBLE, storage, name).build())
                .listener(events).build()) {
            List<Thread> threads = new ArrayList<>();
            List<Integer> seen = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 8; i++) {
                Thread thread = new Thread(() -> {
                    manager.load();
                    seen.add(manager.certificates().size()); // every caller returns after publication
                });
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(List.of(1, 1, 1, 1, 1, 1, 1, 1), seen);
            assertEquals(1, events.of(CertificateEvent.Type.PLACEHOLDER).size());
        }
    }

    @Test
    void aListenerThatBlocksOrWaitsForTheEngineCannotDeadlockIt() throws Exception {
        String name = "blocking.example.test";
        CountDownLatch never = new CountDownLatch(1);
        Events events = new Events();
        CertificateManager[] self = new CertificateManager[1];
        try (CertificateManager manager = served(CertificateManager.builder(PebbleFixtures.settings(PEBBLE, storage, name).build())
                .listener(events)
                .listener(event -> {
                    try {
                        if (event.type() == CertificateEvent.Type.OBTAINED) {
                            self[0].renew(name).get(); // waits for the engine's own thread
                        }
                        if (event.type() == CertificateEvent.Type.RENEWED) {
                            never.await(); // never returns
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }))) {
            self[0] = manager;
            manager.start();
            events.await(CertificateEvent.Type.RENEWED, name, TIMEOUT);
            long before = System.nanoTime();
            manager.stop();
            assertTrue(System.nanoTime() - before < TimeUnit.SECONDS.toNanos(15), "stop() returned");
        } finally {
            never.countDown();
        }
    }

    private static int freePort() throws Exception {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.walk(from)) {
            // .changes last, as a writer marks its change after making it
            for (Path file : files.filter(Files::isRegularFile).filter(f -> !f.toString().contains("/locks/"))
                    .sorted(java.util.Comparator.comparing((Path f) -> f.getFileName().toString().equals(".changes"))).toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                Files.createDirectories(target.getParent());
                Path temp = target.resolveSibling("." + target.getFileName() + ".copy");
                Files.copy(file, temp);
                Files.move(temp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }
}
