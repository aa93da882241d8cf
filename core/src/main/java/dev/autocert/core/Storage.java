package dev.autocert.core;

import java.io.IOException;
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
 * <li>Locks are leases: a holder that dies loses its lock once the lease runs out, so no lock
 *     outlives its process for long. While held, the implementation extends the lease. A caller
 *     that acquires a lock must re-read what it guards: another holder may have changed it.
 * </ul>
 */
public interface Storage {

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
    }

    /**
     * Returns {@code key} when it is of the form above; throws {@link IllegalArgumentException}
     * otherwise. Implementations call it on every key they are given.
     */
    static String checkKey(String key) {
        return StorageKeys.check(key);
    }
}
