package dev.autocert.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PostgresServer;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link PostgresStorage#watch}: told of another node's writes at once, and again after a broken connection. */
class ChangeListenerTest {

    @RegisterExtension
    static final PostgresServer PG = PostgresServer.builder().build();

    /** Generous bounds, for a loaded machine: only a failure waits this long. */
    private static final Duration WITHIN = Duration.ofSeconds(30);

    private static PostgresStorage open(String database) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("user", PG.username());
        properties.setProperty("password", PG.password());
        PostgresStorage storage = new PostgresStorage(PG.jdbcUrl(database), properties);
        storage.open();
        return storage;
    }

    private static boolean told(Semaphore changes) throws InterruptedException {
        return changes.tryAcquire(WITHIN.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void runsTheCallbackSoonAfterAnotherNodeWrites() throws Exception {
        String database = PG.newDatabase();
        try (PostgresStorage watcher = open(database); PostgresStorage writer = open(database)) {
            Semaphore changes = new Semaphore(0);
            watcher.watch(changes::release);
            assertTrue(watcher.listener().awaitListening(WITHIN), "the LISTEN, on the listener's own thread, succeeded");

            writer.store("live/example.com/cert.pem", new byte[] {1});
            assertTrue(told(changes), "told of a store");
            writer.delete("live/example.com/cert.pem");
            assertTrue(told(changes), "and of a delete");
        }
    }

    @Test
    void listensAgainAfterItsConnectionWasKilled() throws Exception {
        String database = PG.newDatabase();
        try (PostgresStorage watcher = open(database); PostgresStorage writer = open(database)) {
            Semaphore changes = new Semaphore(0);
            watcher.watch(changes::release);
            ChangeListener listener = watcher.listener();
            assertTrue(listener.awaitListening(WITHIN), "listening");
            int pid = listener.backendPid();

            PG.execute(database, "SELECT pg_terminate_backend(" + pid + ")");
            assertTrue(told(changes), "told once on reconnecting, for what it may have missed");
            assertTrue(listener.awaitListening(WITHIN), "listening again (before it told)");
            assertNotEquals(pid, listener.backendPid(), "on a new session");
            changes.drainPermits();
            writer.store("after", new byte[] {2});
            assertTrue(told(changes), "and of writes since");
        }
    }
}
