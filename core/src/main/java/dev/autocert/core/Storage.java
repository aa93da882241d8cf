package dev.autocert.core;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where Autocert keeps accounts, certificates and locks: a small map from keys to bytes, with
 * leased locks so that several processes (a cluster) can share one store.
 *
 * <h2>Keys</h2>
 * A key is one or more segments separated by {@code /}; each segment is 1 to 255 characters of
 * {@code [A-Za-z0-9._@+-]}, and is neither {@code .} nor {@code ..}. For example
 * {@code archive/example.com/cert1.pem}. {@link #checkKey(String)} enforces this.
 *
 * <h2>Contract</h2>
 * <ul>
 * <li>Implementations must be safe for concurrent use by several threads and, for shared
 *     stores, by several processes.
 * <li>{@link #load} of a missing key returns empty; it is not an error.
 * <li>{@link #store} is atomic: a reader sees the old value or the new one, never a mix, and a
 *     crash during the write leaves the old one. Values may be secrets (private keys): stores
 *     keep them readable by the owner only.
 * <li>Locks are leases: a holder that dies loses its lock once the lease runs out (or at once,
 *     where the store can tell, such as a kernel file lock or a database session), so no lock
 *     outlives its process for long. While held, the implementation extends the lease. A caller
 *     that acquires a lock must re-read what it guards: another holder may have changed it.
 *     Leases must not compare one host's clock with another's: a store uses its own clock (a
 *     database's {@code now()}) or measures elapsed time on the contender's own clock.
 * <li>Writes that must not happen once a lock is lost (a certificate's new version) go through
 *     {@link #store(String, byte[], Lock)} and {@link #storeSet(String, Map, Lock)}: fenced, so a
 *     holder that stalled past its lease cannot overwrite what the next holder wrote.
 * </ul>
 *
 * <h2>Finding a store</h2>
 * {@link #of(AutocertSettings, Path)} opens the store {@code autocert.storage} names: a directory
 * ({@link FileStorage}), or a URL that a {@link StorageProvider} on the class path accepts, such as
 * {@code jdbc:postgresql://…} ({@code autocert-store-jdbc}) or {@code vault:https://…}
 * ({@code autocert-store-vault}).
 */
public interface Storage extends Closeable {

    /** Returns the value stored at {@code key}, or empty when there is none. */
    Optional<byte[]> load(String key) throws IOException;

    /** Stores {@code value} at {@code key}, atomically, replacing any value there. */
    void store(String key, byte[] value) throws IOException;

    /** Deletes {@code key}; returns whether there was a value. */
    boolean delete(String key) throws IOException;

    /** Every key that starts with {@code prefix} + {@code /}, at any depth, sorted. Empty when there are none. */
    List<String> list(String prefix) throws IOException;

    /**
     * Replaces the set of values under {@code prefix} with {@code values} (their names relative to
     * {@code prefix}, one segment each), such as the four PEM files of {@code live/NAME}. Stores
     * that can should make the set change at once, so that a reader never sees a new private key
     * beside an old certificate; {@link FileStorage} does. The default stores each value in turn.
     */
    default void storeSet(String prefix, Map<String, byte[]> values) throws IOException {
        for (Map.Entry<String, byte[]> entry : values.entrySet()) {
            store(prefix + "/" + entry.getKey(), entry.getValue());
        }
    }

    /**
     * Prepares the store and checks that it can be written, once, when an engine starts, so that
     * a store that cannot work is reported at once rather than at the first order. The default
     * does nothing.
     *
     * @throws IOException naming what is wrong (the place and the system's error) and, where it
     *     can, what to run to fix it
     */
    default void open() throws IOException {
    }

    /**
     * Stores {@code value} at {@code key} only while {@code guard} is held, atomically with that
     * check where the store can (a database writes in the lock's own session); throws
     * {@link LockLostException} and changes nothing otherwise. The default checks
     * {@link Lock#ensureHeld()} first.
     */
    default void store(String key, byte[] value, Lock guard) throws IOException {
        guard.ensureHeld();
        store(key, value);
    }

    /** {@link #storeSet(String, Map)} only while {@code guard} is held, as {@link #store(String, byte[], Lock)}. */
    default void storeSet(String prefix, Map<String, byte[]> values, Lock guard) throws IOException {
        guard.ensureHeld();
        storeSet(prefix, values);
    }

    /**
     * A value that changes whenever any key of this store changes, and is cheap to read (one
     * query), so that a process following the store can skip reading it all when nothing changed.
     * Empty when the store keeps none: callers then read what they follow.
     */
    default Optional<String> changeMarker() throws IOException {
        return Optional.empty();
    }

    /**
     * Whether this process may create {@code key}, which does not exist yet, as far as the store
     * can tell without writing: false when its credentials allow only updates of existing keys
     * (Vault's {@code create} capability, as in a renew-only policy). Asked before a certificate is
     * ordered for a new name, so that a process that could not store it orders nothing. Stores
     * that cannot tell say true; the default does.
     *
     * @throws IOException when the store cannot be asked
     */
    default boolean mayCreate(String key) throws IOException {
        return true;
    }

    /**
     * Asks to be told soon after another process changes this store: stores that can (PostgreSQL's
     * {@code LISTEN}) run {@code onChange} on a thread of their own; others never run it, and
     * followers poll {@link #changeMarker()}. {@code onChange} must return quickly.
     */
    default void watch(Runnable onChange) throws IOException {
    }

    /** Releases connections and threads; the default does nothing. Closing twice does nothing. */
    @Override
    default void close() throws IOException {
    }

    /**
     * Takes the lock {@code name} if it is free (or its lease has run out), without waiting.
     *
     * @param lease how long the lock stays held if its holder dies; the implementation extends
     *              it while the returned lock is open
     * @return the lock, to be closed by the holder, or empty when another holder has it
     */
    Optional<Lock> tryLock(String name, Duration lease) throws IOException;

    /** A held lock. Closing it releases it; closing twice does nothing. */
    interface Lock extends AutoCloseable {
        @Override
        void close() throws IOException;

        /**
         * Throws {@link LockLostException} when this lock is no longer held: it was closed, or its
         * lease ran out and another holder may have taken it. The default does nothing (locks
         * that cannot be lost while their holder lives).
         */
        default void ensureHeld() throws IOException {
        }
    }

    /**
     * The store that {@code autocert.storage} names: a directory, or {@code defaultDirectory}
     * when the setting is absent, as a {@link FileStorage}; a URL through the first
     * {@link StorageProvider} on the class path that accepts it. Nothing is connected yet:
     * {@link #open()} does that.
     *
     * @throws InvalidSettingException when no provider accepts the URL (naming the module to add)
     *         or the provider refuses its settings
     */
    static Storage of(AutocertSettings settings, Path defaultDirectory) {
        return StorageProviders.open(settings, defaultDirectory);
    }

    /**
     * Returns {@code key} when it is of the form above; throws {@link IllegalArgumentException}
     * otherwise. Implementations call it on every key they are given.
     */
    static String checkKey(String key) {
        return StorageKeys.check(key);
    }
}
