package dev.autocert.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PostgresServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Autocert's tables: created once, versioned, and clear about missing privileges. */
class SchemaTest {

    @RegisterExtension
    static final PostgresServer PG = PostgresServer.builder().build();

    private static PostgresStorage storage(String database, String user, String password) {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        return new PostgresStorage(PG.jdbcUrl(database), properties);
    }

    private static PostgresStorage storage(String database) {
        return storage(database, PG.username(), PG.password());
    }

    @Test
    void nodesStartingTogetherCreateTheTablesOnce() throws Exception {
        String database = PG.newDatabase();
        int nodes = 4;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(nodes);
        List<PostgresStorage> stores = new ArrayList<>();
        try {
            List<Future<?>> opened = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                PostgresStorage storage = storage(database);
                stores.add(storage);
                opened.add(pool.submit(() -> {
                    start.await();
                    storage.open();
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> open : opened) {
                open.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals("1", PG.execute(database, "SELECT count(*) FROM autocert_schema").strip());
        assertEquals("1", PG.execute(database, "SELECT version FROM autocert_schema").strip());
        assertEquals("0", PG.execute(database, "SELECT counter FROM autocert_changes").strip());
        stores.get(0).store("a/b", new byte[] {1});
        assertArrayEquals(new byte[] {1}, stores.get(3).load("a/b").orElseThrow());
        stores.forEach(PostgresStorage::close);
    }

    @Test
    void aUserWhoMayNotCreateTablesIsToldWhatToGrant() throws Exception {
        String database = PG.newDatabase();
        // PostgreSQL 15 and newer: only the database owner may create in public; older: revoke it.
        PG.execute(database, "CREATE ROLE app_nocreate LOGIN PASSWORD 'app-pw-1'; REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        try (PostgresStorage storage = storage(database, "app_nocreate", "app-pw-1")) {
            IOException e = assertThrows(IOException.class, storage::open);
            assertTrue(e.getMessage().contains("GRANT USAGE, CREATE ON SCHEMA public TO app_nocreate"), e.getMessage());
            assertTrue(e.getMessage().contains("permission denied for schema public"), e.getMessage());
            assertTrue(e.getMessage().contains(PG.jdbcUrl(database)), e.getMessage());
            assertFalse(e.getMessage().contains("app-pw-1"), e.getMessage());
        }
        assertEquals("", PG.execute(database, "SELECT to_regclass('autocert_entries')").strip(), "nothing half-created");

        PG.execute(database, "GRANT USAGE, CREATE ON SCHEMA public TO app_nocreate");
        try (PostgresStorage storage = storage(database, "app_nocreate", "app-pw-1")) {
            storage.open(); // as the message said
        }
    }

    @Test
    void aUserWithoutTablePrivilegesIsToldWhatToGrant() throws Exception {
        String database = PG.newDatabase();
        try (PostgresStorage owner = storage(database)) {
            owner.open();
        }
        PG.execute(database, "CREATE ROLE app_reader LOGIN PASSWORD 'app-pw-2'; GRANT SELECT ON autocert_entries TO app_reader");
        try (PostgresStorage storage = storage(database, "app_reader", "app-pw-2")) {
            IOException e = assertThrows(IOException.class, storage::open);
            assertTrue(e.getMessage().contains("lacks INSERT on autocert_entries"), e.getMessage());
            assertTrue(e.getMessage().contains("GRANT SELECT, INSERT, UPDATE, DELETE ON autocert_entries TO app_reader; "
                    + "GRANT SELECT, UPDATE ON autocert_changes TO app_reader; GRANT SELECT ON autocert_schema TO app_reader;"),
                    e.getMessage());
        }
        PG.execute(database, Schema.grants("app_reader"));
        try (PostgresStorage storage = storage(database, "app_reader", "app-pw-2")) {
            storage.open();
            storage.store("granted", "yes".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void refusesTablesOfANewerVersion() throws Exception {
        String database = PG.newDatabase();
        try (PostgresStorage owner = storage(database)) {
            owner.open();
        }
        PG.execute(database, "INSERT INTO autocert_schema (version) VALUES (" + (Schema.VERSION + 1) + ")");
        try (PostgresStorage storage = storage(database)) {
            IOException e = assertThrows(IOException.class, () -> storage.load("a"));
            assertTrue(e.getMessage().contains("schema version " + (Schema.VERSION + 1) + ", newer than this "
                    + "autocert-store-jdbc knows (" + Schema.VERSION + ")"), e.getMessage());
        }
    }

    @Test
    void goesInTheSchemaTheUrlNames() throws Exception {
        String database = PG.newDatabase();
        PG.execute(database, "CREATE SCHEMA certs");
        Properties properties = new Properties();
        properties.setProperty("user", PG.username());
        properties.setProperty("password", PG.password());
        try (PostgresStorage storage = new PostgresStorage(PG.jdbcUrl(database) + "?currentSchema=certs", properties)) {
            storage.store("x", new byte[] {7});
        }
        assertEquals("certs.autocert_entries", PG.execute(database, "SELECT to_regclass('certs.autocert_entries')").strip());
        assertEquals("", PG.execute(database, "SELECT to_regclass('public.autocert_entries')").strip());
    }
}
