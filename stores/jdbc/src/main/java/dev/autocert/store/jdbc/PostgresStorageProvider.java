package dev.autocert.store.jdbc;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.Storage;
import dev.autocert.core.StorageProvider;
import dev.autocert.core.StorageSettings;
import java.util.Locale;
import java.util.Properties;

/**
 * Opens {@code autocert.storage=jdbc:postgresql://HOST[:PORT]/DATABASE[?PARAMETERS]} as a
 * {@link PostgresStorage}, with {@code autocert.storage-username} and
 * {@code autocert.storage-password} as the credentials (they win over the URL's {@code user} and
 * {@code password} parameters, which win over {@code PGUSER} and {@code PGPASSWORD}). Listed in
 * {@code META-INF/services/dev.autocert.core.StorageProvider}; public only for
 * {@link java.util.ServiceLoader}.
 */
public final class PostgresStorageProvider implements StorageProvider {

    private static final String SETTING = "autocert.storage";

    /** Called by {@link java.util.ServiceLoader}. */
    public PostgresStorageProvider() {
    }

    @Override
    public boolean accepts(String location) {
        return location.toLowerCase(Locale.ROOT).startsWith("jdbc:postgresql:");
    }

    @Override
    public Storage create(AutocertSettings settings) {
        StorageSettings storage = settings.storageSettings();
        String url = storage.location().orElseThrow(() -> new InvalidSettingException(SETTING, "is not set"));
        if (!PgDriver.present()) {
            throw new InvalidSettingException(SETTING, "'" + StorageSettings.redact(url) + "' needs the PostgreSQL JDBC "
                    + "driver on the class path: add the dependency " + PgDriver.COORDINATES + " (42.x)");
        }
        Properties properties = new Properties();
        storage.username().ifPresent(user -> properties.setProperty("user", user));
        storage.password().ifPresent(password -> properties.setProperty("password", password));
        try {
            return new PostgresStorage(url, properties);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(SETTING, e.getMessage());
        }
    }
}
