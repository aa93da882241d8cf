package dev.autocert.store.jdbc;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The SQL of reads and writes of {@link Schema#ENTRIES}. Writes run inside a transaction the
 * caller manages, and each starts with {@link #bump}: the change counter's row is the first lock
 * every writer takes, so writers queue in one order and never deadlock, and the counter moves in
 * the same transaction as the change.
 */
final class Entries {

    private static final String LOAD = "SELECT value FROM " + Schema.ENTRIES + " WHERE key = ?";
    private static final String LIST = "SELECT key FROM " + Schema.ENTRIES
            + " WHERE key >= ? COLLATE \"C\" AND key < ? COLLATE \"C\" ORDER BY key COLLATE \"C\"";
    private static final String UPSERT = "INSERT INTO " + Schema.ENTRIES + " (key, value) VALUES (?, ?) "
            + "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated = now()";
    private static final String DELETE = "DELETE FROM " + Schema.ENTRIES + " WHERE key = ?";
    private static final String DELETE_OTHERS = "DELETE FROM " + Schema.ENTRIES
            + " WHERE key >= ? COLLATE \"C\" AND key < ? COLLATE \"C\" AND NOT (key = ANY (?))";
    private static final String BUMP = "UPDATE " + Schema.CHANGES + " SET counter = counter + 1 RETURNING counter";
    private static final String NOTIFY = "SELECT pg_notify('" + Schema.CHANNEL + "', ?)";
    private static final String MARKER = "SELECT counter FROM " + Schema.CHANGES;

    private Entries() {
    }

    static Optional<byte[]> load(Connection connection, String key) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LOAD)) {
            statement.setString(1, key);
            try (ResultSet row = statement.executeQuery()) {
                return row.next() ? Optional.of(row.getBytes(1)) : Optional.empty();
            }
        }
    }

    /**
     * Every key under {@code prefix + "/"}, sorted by bytes. A range of the primary key rather than
     * {@code LIKE}, whose {@code _} and {@code %} would need escaping: keys are ASCII, and
     * {@code '0'} is the character after {@code '/'}.
     */
    static List<String> list(Connection connection, String prefix) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LIST)) {
            statement.setString(1, prefix + "/");
            statement.setString(2, prefix + "0");
            List<String> keys = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    keys.add(rows.getString(1));
                }
            }
            return keys;
        }
    }

    /** Moves the change counter, locking its row until the transaction ends; {@return the new value} */
    static long bump(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(BUMP);
                ResultSet row = statement.executeQuery()) {
            if (!row.next()) {
                throw new SQLException("the row of " + Schema.CHANGES + " is missing; restore it with: INSERT INTO "
                        + Schema.CHANGES + " (singleton, counter) VALUES (true, 0)", "55000");
            }
            return row.getLong(1);
        }
    }

    /** Tells listeners of {@link Schema#CHANNEL}, when the transaction commits, that the counter is now {@code counter}. */
    static void notify(Connection connection, long counter) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(NOTIFY)) {
            statement.setString(1, Long.toString(counter));
            statement.execute();
        }
    }

    static void upsert(Connection connection, String key, byte[] value) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(UPSERT)) {
            statement.setString(1, key);
            statement.setBytes(2, value);
            statement.executeUpdate();
        }
    }

    /** {@return whether there was a row} */
    static boolean delete(Connection connection, String key) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(DELETE)) {
            statement.setString(1, key);
            return statement.executeUpdate() > 0;
        }
    }

    /** Writes {@code values} under {@code prefix} and deletes every other key under it. */
    static void replaceSet(Connection connection, String prefix, Map<String, byte[]> values) throws SQLException {
        Map<String, byte[]> sorted = new TreeMap<>();
        values.forEach((name, value) -> sorted.put(prefix + "/" + name, value));
        try (PreparedStatement statement = connection.prepareStatement(UPSERT)) {
            for (Map.Entry<String, byte[]> entry : sorted.entrySet()) {
                statement.setString(1, entry.getKey());
                statement.setBytes(2, entry.getValue());
                statement.addBatch();
            }
            statement.executeBatch();
        }
        try (PreparedStatement statement = connection.prepareStatement(DELETE_OTHERS)) {
            Array keep = connection.createArrayOf("text", sorted.keySet().toArray());
            statement.setString(1, prefix + "/");
            statement.setString(2, prefix + "0");
            statement.setArray(3, keep);
            statement.executeUpdate();
            keep.free();
        }
    }

    /** {@return the change counter} */
    static long marker(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(MARKER);
                ResultSet row = statement.executeQuery()) {
            if (!row.next()) {
                throw new SQLException("the row of " + Schema.CHANGES + " is missing", "55000");
            }
            return row.getLong(1);
        }
    }
}
