package dev.autocert.core;

/**
 * Opens a {@link Storage} named by a URL in {@code autocert.storage}, such as
 * {@code jdbc:postgresql://db.example/autocert} or {@code vault:https://vault.example:8200/secret/autocert}.
 * Found with {@link java.util.ServiceLoader}: a module that provides a store lists its provider in
 * {@code META-INF/services/dev.autocert.core.StorageProvider}.
 */
public interface StorageProvider {

    /** Whether this provider opens {@code location}, judged by its scheme alone. */
    boolean accepts(String location);

    /**
     * A store for {@code settings.storageSettings()}, not yet connected ({@link Storage#open()}
     * connects). Reads credentials from the settings or the environment here, so a missing one is
     * reported when the store is made.
     *
     * @throws InvalidSettingException naming the setting, the value and the fix, when the location
     *         or a credential is wrong; never showing a secret
     */
    Storage create(AutocertSettings settings);
}
