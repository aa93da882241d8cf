package dev.autocert.core;

import java.nio.file.Path;
import java.util.Locale;
import java.util.ServiceLoader;

/** Finds the {@link StorageProvider} for {@code autocert.storage}. */
final class StorageProviders {

    private StorageProviders() {
    }

    static Storage open(AutocertSettings settings, Path defaultDirectory) {
        StorageSettings storage = settings.storageSettings();
        if (storage.location().isEmpty() || storage.directory().isPresent()) {
            return new FileStorage(storage.directory().orElse(defaultDirectory));
        }
        String location = storage.location().get();
        ClassLoader loader = StorageProviders.class.getClassLoader();
        for (StorageProvider provider : ServiceLoader.load(StorageProvider.class, loader)) {
            if (provider.accepts(location)) {
                return provider.create(settings);
            }
        }
        String lower = location.toLowerCase(Locale.ROOT);
        String key = AutocertSettings.PREFIX + AutocertSettings.STORAGE;
        if (lower.startsWith("jdbc:postgresql:")) {
            throw new InvalidSettingException(key, "'" + StorageSettings.redact(location) + "' needs the module "
                    + "dev.autocert:autocert-store-jdbc and the PostgreSQL driver (org.postgresql:postgresql) on the class path");
        }
        if (lower.startsWith("vault:")) {
            throw new InvalidSettingException(key, "'" + StorageSettings.redact(location) + "' needs the module dev.autocert:autocert-store-vault "
                    + "on the class path");
        }
        throw new InvalidSettingException(key, "'" + StorageSettings.redact(location) + "' is not a store this version knows: "
                + "give a directory, jdbc:postgresql://HOST[:PORT]/DATABASE or vault:https://HOST:PORT/MOUNT/PATH");
    }
}
