package dev.autocert.store.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Autocert's tables, created on first use in the first schema of the connection's
 * {@code search_path} ({@code public} unless the URL sets {@code currentSchema}):
 *
 * <pre>
 * autocert_schema  (version integer PRIMARY KEY, installed timestamptz)   -- one row per schema version applied
 * autocert_entries (key text COLLATE "C" PRIMARY KEY, value bytea, updated timestamptz)
 * autocert_changes (singleton boolean PRIMARY KEY, counter bigint)        -- one row, bumped by every write
 * </pre>
 *
 * <p>Creation runs in one transaction under a transaction-level advisory lock, so nodes that start
 * together create the tables once. A database whose tables are of a newer version than this code
 * knows is refused rather than written.
 */
final class Schema {

    private static final Logger LOG = LoggerFactory.getLogger(Schema.class);

    /** The version this code writes; newer ones are refused. */
    static final int VERSION = 1;

    static final String VERSIONS = "autocert_schema";
    static final String ENTRIES = "autocert_entries";
    static final String CHANGES = "autocert_changes";
    /** The {@code LISTEN}/{@code NOTIFY} channel every write notifies. */
    static final String CHANNEL = "autocert_changes";

    private static final List<String> CREATE_V1 = List.of(
            "CREATE TABLE " + VERSIONS + " ("
                    + "version integer PRIMARY KEY, "
                    + "installed timestamptz NOT NULL DEFAULT now())",
            // "C": keys sort by their bytes (they are ASCII), and the primary key's index serves prefix ranges.
            "CREATE TABLE " + ENTRIES + " ("
                    + "key text COLLATE \"C\" PRIMARY KEY, "
                    + "value bytea NOT NULL, "
                    + "updated timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE " + CHANGES + " ("
                    + "singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), "
                    + "counter bigint NOT NULL)",
            "INSERT INTO " + CHANGES + " (singleton, counter) VALUES (true, 0)",
            "INSERT INTO " + VERSIONS + " (version) VALUES (" + VERSION + ")");

    /** Table privileges a user of the store needs, in the order of {@link #grants(String)}. */
    private static final String[][] PRIVILEGES = {
            {ENTRIES, "SELECT"}, {ENTRIES, "INSERT"}, {ENTRIES, "UPDATE"}, {ENTRIES, "DELETE"},
            {CHANGES, "SELECT"}, {CHANGES, "UPDATE"}, {VERSIONS, "SELECT"}};

    private Schema() {
    }

    /**
     * Creates the tables when missing, then checks their version and this user's privileges.
     *
     * @param where the redacted URL and user, for messages
     * @throws IOException when the tables cannot be created, are newer, or cannot be written; the
     *     message says what to run
     * @throws SQLException for any other failure
     */
    static void prepare(Connection connection, String where) throws IOException, SQLException {
        Place place = place(connection);
        if (!place.exists) {
            create(connection, place, where);
        }
        checkPrivileges(connection, place, where);
        checkVersion(connection, where);
    }

    /** Where the tables are or go: the connection's current schema, database, user and search path. */
    private record Place(String schema, String database, String user, String searchPath, boolean exists) {
    }

    /**
     * Reads {@code pg_class} with the statement's own snapshot rather than {@code to_regclass},
     * whose catalog cache may not yet show tables another node committed while this one waited
     * for the creation lock.
     */
    private static Place place(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT current_schema(), current_database(), current_user, "
                        + "current_setting('search_path'), EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
                        + "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE c.relname = '" + VERSIONS + "' AND n.nspname = ANY (current_schemas(false)))")) {
            row.next();
            return new Place(row.getString(1), row.getString(2), row.getString(3), row.getString(4), row.getBoolean(5));
        }
    }

    private static void create(Connection connection, Place place, String where) throws IOException, SQLException {
        connection.setAutoCommit(false);
        try {
            try (PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                lock.setLong(1, LockKeys.SCHEMA);
                lock.execute();
            }
            // Another node may have created them while this one waited for the lock.
            Place now = place(connection);
            if (now.exists) {
                connection.rollback();
                return;
            }
            if (now.schema == null) {
                connection.rollback();
                throw new IOException("Could not create Autocert's tables at " + where + ": no schema of the search_path ("
                        + now.searchPath + ") exists that the user " + now.user + " may use. Let it use one (GRANT USAGE, "
                        + "CREATE ON SCHEMA public TO " + identifier(now.user) + ";) or create one (CREATE SCHEMA autocert "
                        + "AUTHORIZATION " + identifier(now.user) + ";) and name it in the URL: ?currentSchema=autocert");
            }
            try (Statement statement = connection.createStatement()) {
                for (String sql : CREATE_V1) {
                    statement.execute(sql);
                }
            }
            connection.commit();
            LOG.info("Created Autocert's tables (schema v{}) in schema {} of database {} at {}", VERSION, now.schema,
                    now.database, where);
        } catch (SQLException e) {
            rollbackQuietly(connection);
            if ("42501".equals(e.getSQLState())) { // insufficient_privilege
                throw new IOException("Could not create Autocert's tables in schema " + place.schema + " of database "
                        + place.database + " at " + where + ": " + e.getMessage() + ". Either let the user create tables "
                        + "there (as the schema's owner or a superuser: GRANT USAGE, CREATE ON SCHEMA "
                        + identifier(place.schema) + " TO " + identifier(place.user) + ";), or start Autocert once as a user "
                        + "who may, then grant this one: " + grants(place.user), e);
            }
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    private static void checkVersion(Connection connection, String where) throws IOException, SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT max(version) FROM " + VERSIONS)) {
            row.next();
            int version = row.getInt(1);
            if (version > VERSION) {
                throw new IOException("Autocert's tables at " + where + " are of schema version " + version + ", newer than "
                        + "this autocert-store-jdbc knows (" + VERSION + "): a newer Autocert has upgraded them. Upgrade "
                        + "autocert-store-jdbc on this node too; it does not write tables it does not know");
            }
            LOG.debug("Autocert's tables at {} are of schema version {}", where, version);
        }
    }

    private static void checkPrivileges(Connection connection, Place place, String where) throws IOException, SQLException {
        List<String> missing = new ArrayList<>();
        try (PreparedStatement check = connection.prepareStatement("SELECT has_table_privilege(?, ?)")) {
            for (String[] privilege : PRIVILEGES) {
                check.setString(1, privilege[0]);
                check.setString(2, privilege[1]);
                try (ResultSet row = check.executeQuery()) {
                    row.next();
                    if (!row.getBoolean(1)) {
                        missing.add(privilege[1] + " on " + privilege[0]);
                    }
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new IOException("The user " + place.user + " may not use Autocert's tables at " + where + ": it lacks "
                    + String.join(", ", missing) + ". As their owner or a superuser, run: " + grants(place.user));
        }
    }

    /** {@return the GRANT statements that let {@code user} use the tables} */
    static String grants(String user) {
        String role = identifier(user);
        return "GRANT SELECT, INSERT, UPDATE, DELETE ON " + ENTRIES + " TO " + role + "; "
                + "GRANT SELECT, UPDATE ON " + CHANGES + " TO " + role + "; "
                + "GRANT SELECT ON " + VERSIONS + " TO " + role + ";";
    }

    /** {@code name} as an SQL identifier, quoted when it needs it. */
    static String identifier(String name) {
        if (name == null) {
            return "\"?\"";
        }
        return name.matches("[a-z_][a-z0-9_$]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static void rollbackQuietly(Connection connection) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            LOG.debug("Rollback failed", e);
        }
    }
}
