package dev.autocert.cluster;

import dev.autocert.core.AutocertSettings;
import dev.autocert.testkit.PostgresServer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The cluster on PostgreSQL: locks are the database's advisory locks, and nodes follow through LISTEN/NOTIFY. */
class PostgresClusterIT extends ClusterContract {

    @RegisterExtension
    static final PostgresServer POSTGRES = PostgresServer.builder().build();

    private static String database;

    @Override
    Map<String, String> storeSettings() {
        synchronized (PostgresClusterIT.class) {
            if (database == null) {
                database = POSTGRES.newDatabase();
            }
        }
        Map<String, String> settings = new LinkedHashMap<>();
        POSTGRES.settings(database).forEach((name, value) -> settings.put(AutocertSettings.PREFIX + name, value));
        return settings;
    }
}
