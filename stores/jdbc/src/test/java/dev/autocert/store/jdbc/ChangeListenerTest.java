package dev.autocert.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PostgresServer;
import java.util.Properties;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link PostgresStorage#watch}: told of another node's writes at once, and again after a broken connection. */
class ChangeListenerTest {

    @RegisterExtension
    static final PostgresServer PG = PostgresServer.builder().build();

    private static PostgresStorage open(String database) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("user", PG.username());
        properties.setProperty("password", PG.password());
        PostgresStorage storage = new PostgresStorage(PG.jdbcUrl(database), properties);
        storage.open();
        return storage;
    }

    @Test
    void runsTheCallbackSoonAfterAnotherNodeWrites() throws Exception {
        String database = PG.newDatabase();
        try (PostgresStorage watcher = open(database); PostgresStorage writer = open(database)) {
            Semaphore changes = new Semaphore(0);
            watcher.watch(changes::release);
            Thread.sleep(300); // the LISTEN is issued on the listener's own thread
            changes.drainPermits();

            writer.store("live/example.com/cert.pem", new byte[] {1});
            assertTrue(changes.tryAcquire(1, TimeUnit.SECONDS), "told within a second of a store");
            writer.delete("live/example.com/cert.pem");
            assertTrue(changes.tryAcquire(1, TimeUnit.SECONDS), "and of a delete");
        }
    }

    @Test
    void listensAgainAfterItsConnectionWasKilled() throws Exception {
        String database = PG.newDatabase();
        try (PostgresStorage watcher = open(database); PostgresStorage writer = open(database)) {
            Semaphore changes = new Semaphore(0);
            watcher.watch(changes::release);
            Thread.sleep(300);
            String pid = "";
            for (int i = 0; i < 50 && pid.isEmpty(); i++) {
                pid = PG.execute(database, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        + "AND query LIKE 'LISTEN%'").strip();
                Thread.sleep(20);
            }
            PG.execute(database, "SELECT pg_terminate_backend(" + pid + ")");
            assertTrue(changes.tryAcquire(5, TimeUnit.SECONDS), "told once on reconnecting, for what it may have missed");
            changes.drainPermits();
            writer.store("after", new byte[] {2});
            assertTrue(changes.tryAcquire(2, TimeUnit.SECONDS), "and of writes since");
        }
    }
}
