package dev.autocert.store.vault;

import java.time.Duration;

/**
 * A process for {@link VaultLockTest}: takes a lock, prints {@code LOCKED} and holds it (extending
 * its lease) until it is killed. Arguments: location, lock name, lease in milliseconds; the token
 * in {@code VAULT_TOKEN}.
 */
public final class LockHolderMain {

    private LockHolderMain() {
    }

    public static void main(String[] args) throws Exception {
        VaultStorage storage = VaultStorage.builder(args[0]).token(System.getenv("VAULT_TOKEN")).build();
        storage.open();
        storage.tryLock(args[1], Duration.ofMillis(Long.parseLong(args[2]))).orElseThrow();
        System.out.println("LOCKED");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
