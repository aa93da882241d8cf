package dev.autocert.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.LockLostException;
import dev.autocert.core.Storage;
import dev.autocert.core.StorageContract;
import dev.autocert.testkit.PostgresServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;
import org.postgresql.ds.PGSimpleDataSource;

/** {@link PostgresStorage} against a real PostgreSQL: the store contract, with two stores as two nodes. */
class PostgresStorageTest extends StorageContract {

    @RegisterExtension
    static final PostgresServer PG = PostgresServer.builder().build();

    private static String database;
    private static PostgresStorage first;
    private static PostgresStorage second;

    static synchronized String database() {
        if (database == null) {
            database = PG.newDatabase();
        }
        return database;
    }

    static Properties credentials() {
        Properties properties = new Properties();
        properties.setProperty("user", PG.username());
        properties.setProperty("password", PG.password());
        return properties;
    }

    @Override
    protected synchronized Storage storage() throws IOException {
        if (first == null) {
            first = new PostgresStorage(PG.jdbcUrl(database()), credentials());
            first.open();
        }
        return first;
    }

    @Override
    protected synchronized Storage otherStorage() throws IOException {
        if (second == null) {
            second = new PostgresStorage(PG.jdbcUrl(database()), credentials());
            second.open();
        }
        return second;
    }

    @AfterAll
    static synchronized void closeStores() {
        for (PostgresStorage storage : new PostgresStorage[] {first, second}) {
            if (storage != null) {
                storage.close();
            }
        }
        first = null;
        second = null;
        database = null;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void listsKeysWithUnderscoresLiterally() throws Exception {
        Storage storage = storage();
        storage.store(testKey("a_b/x"), bytes("1"));
        storage.store(testKey("aXb/y"), bytes("2")); // what LIKE 'a_b/%' would also match
        storage.store(testKey("a_b.c/z"), bytes("3"));
        assertEquals(List.of(testKey("a_b/x")), storage.list(testKey("a_b")));
    }

    @Test
    void aSetRemovesDeeperKeysUnderItsPrefix() throws Exception {
        Storage storage = storage();
        storage.store(testKey("live/x/old/deeper.pem"), bytes("old"));
        storage.storeSet(testKey("live/x"), Map.of("cert.pem", bytes("c")));
        assertEquals(List.of(testKey("live/x/cert.pem")), otherStorage().list(testKey("live/x")));
    }

    @Test
    void aDeleteOfNothingLeavesTheMarker() throws Exception {
        Storage storage = storage();
        String before = storage.changeMarker().orElseThrow();
        assertFalse(otherStorage().delete(testKey("never-stored")));
        assertEquals(before, storage.changeMarker().orElseThrow());
    }

    @Test
    void worksFromADataSource() throws Exception {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(PG.jdbcUrl(database()));
        dataSource.setUser(PG.username());
        dataSource.setPassword(PG.password());
        try (PostgresStorage fromDataSource = new PostgresStorage(dataSource)) {
            fromDataSource.open();
            fromDataSource.store(testKey("ds"), bytes("from a data source"));
            assertArrayEquals(bytes("from a data source"), storage().load(testKey("ds")).orElseThrow());
            try (Storage.Lock lock = fromDataSource.tryLock(testKey("ds-lock"), Duration.ofMinutes(1)).orElseThrow()) {
                assertTrue(storage().tryLock(testKey("ds-lock"), Duration.ofMinutes(1)).isEmpty());
                fromDataSource.store(testKey("ds"), bytes("fenced"), lock);
            }
            assertTrue(fromDataSource.toString().contains(database()), fromDataSource.toString());
            assertFalse(fromDataSource.toString().contains(PG.password()));
        }
    }

    @Test
    void aClosedStoreRefusesWorkAndReleasesItsLocks() throws Exception {
        PostgresStorage closing = new PostgresStorage(PG.jdbcUrl(database()), credentials());
        closing.open();
        Storage.Lock lock = closing.tryLock(testKey("closing"), Duration.ofMinutes(1)).orElseThrow();
        closing.watch(() -> { });
        closing.close();
        closing.close();
        assertThrows(IOException.class, () -> closing.load(testKey("x")));
        assertThrows(IOException.class, lock::ensureHeld);
        Storage.Lock taken = storage().tryLock(testKey("closing"), Duration.ofMinutes(1)).orElseThrow();
        taken.close();
    }

    @Test
    void everyMethodOfAClosedStoreSaysItIsClosed() throws Exception {
        PostgresStorage closing = new PostgresStorage(PG.jdbcUrl(database()), credentials());
        closing.open();
        Storage.Lock ownLock = closing.tryLock(testKey("closed-own"), Duration.ofMinutes(1)).orElseThrow();
        closing.watch(() -> { });
        ChangeListener listener = closing.listener();
        assertTrue(listener.awaitListening(Duration.ofSeconds(30)));
        closing.close();
        assertFalse(listener.isAlive(), "close() stopped the LISTEN thread");
        closing.close(); // does nothing
        assertThrows(LockLostException.class, ownLock::ensureHeld);

        PostgresStorage neverOpened = new PostgresStorage(PG.jdbcUrl(database()), credentials());
        neverOpened.close();
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(PG.jdbcUrl(database()));
        PostgresStorage fromDataSource = new PostgresStorage(dataSource);
        fromDataSource.close();
        fromDataSource.close();

        try (Storage.Lock otherLock = storage().tryLock(testKey("closed-other"), Duration.ofMinutes(1)).orElseThrow()) {
            for (PostgresStorage closed : List.of(closing, neverOpened, fromDataSource)) {
                String key = testKey("after-close");
                Map<String, byte[]> set = Map.of("a", bytes("a"));
                List<Executable> calls = List.of(
                        closed::open,
                        () -> closed.load(key),
                        () -> closed.store(key, bytes("x")),
                        () -> closed.store(key, bytes("x"), ownLock),
                        () -> closed.store(key, bytes("x"), otherLock),
                        () -> closed.storeSet(key, set),
                        () -> closed.storeSet(key, set, ownLock),
                        () -> closed.storeSet(key, set, otherLock),
                        () -> closed.delete(key),
                        () -> closed.list(key),
                        closed::changeMarker,
                        () -> closed.watch(() -> { }),
                        () -> closed.tryLock(testKey("after-close-lock"), Duration.ofMinutes(1)));
                for (Executable call : calls) {
                    IOException e = assertThrows(IOException.class, call);
                    assertTrue(e.getMessage().startsWith("The store is closed"), e.getMessage());
                }
            }
            otherLock.ensureHeld(); // the closed store did not touch another store's lock
        }
        assertEquals(java.util.Optional.empty(), storage().load(testKey("after-close")), "nothing written");
    }

    @Test
    void aWrongPasswordFailsAtOpenWithoutShowingIt() {
        Properties wrong = new Properties();
        wrong.setProperty("user", PG.username());
        wrong.setProperty("password", "not-the-Pa55word");
        PostgresStorage storage = new PostgresStorage(PG.jdbcUrl(database()), wrong);
        IOException e = assertThrows(IOException.class, storage::open);
        assertTrue(e.getMessage().contains("password authentication failed"), e.getMessage());
        assertTrue(e.getMessage().contains(PG.jdbcUrl(database())), e.getMessage());
        assertFalse(e.getMessage().contains("not-the-Pa55word"), e.getMessage());
        storage.close();
    }

    @Test
    void neverShowsAPasswordOfTheUrl() throws Exception {
        String url = PG.jdbcUrl(database()) + "?user=" + PG.username() + "&password=" + PG.password();
        try (PostgresStorage storage = new PostgresStorage(url, new Properties())) {
            storage.open();
            assertFalse(storage.toString().contains(PG.password()), storage.toString());
            assertTrue(storage.toString().contains("(user " + PG.username() + ")"), storage.toString());
        }
    }

    @Test
    void refusesAUrlTheDriverDoesNotTake() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PostgresStorage("jdbc:mysql://db/x?password=hunter2", new Properties()));
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertInstanceOf(IllegalArgumentException.class, e);
    }
}
