package dev.autocert.store.jdbc;

import dev.autocert.core.Storage;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;

/**
 * Another process for {@link AdvisoryLockTest}: takes a lock, says {@code LOCKED} on standard
 * output and waits to be killed. Arguments: URL, lock name; the credentials come in the
 * variables {@code PGUSER} and {@code PGPASSWORD}.
 */
public final class LockHolderMain {

    private LockHolderMain() {
    }

    public static void main(String[] args) throws Exception {
        PostgresStorage storage = new PostgresStorage(args[0], new Properties());
        Optional<Storage.Lock> lock = storage.tryLock(args[1], Duration.ofMinutes(1));
        System.out.println(lock.isPresent() ? "LOCKED" : "BUSY");
        System.out.flush();
        Thread.sleep(Duration.ofMinutes(2).toMillis());
        System.exit(3); // never reached in the test: it is killed first
    }
}
