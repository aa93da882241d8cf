package dev.autocert.store.jdbc;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The 64-bit keys of PostgreSQL advisory locks: the first eight bytes of the SHA-256 of a fixed
 * namespace and a name, so that Autocert's keys are stable across versions and nodes and do not
 * collide with the small integers other applications of the same database tend to use.
 */
final class LockKeys {

    private static final String NAMESPACE = "dev.autocert.store.jdbc\u0000";

    /** The key of the transaction-level lock that serialises creating the tables. */
    static final long SCHEMA = of("schema\u0000creation");

    private LockKeys() {
    }

    /** {@return the key of the lock {@code name}} */
    static long forLock(String name) {
        return of("lock\u0000" + name);
    }

    private static long of(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest((NAMESPACE + text).getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
