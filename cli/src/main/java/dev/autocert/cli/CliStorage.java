package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.StorageSettings;
import dev.autocert.core.Storage;
import dev.autocert.core.StoredCertificate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The storage a verb works on: the directory in {@code autocert.storage}, or {@code ~/.autocert}
 * as for an engine given none, the same files and locks a server on that directory uses; for
 * {@code --dry-run}, a view of it that keeps every write in memory ({@link DryRunStorage}).
 */
final class CliStorage {

    private static final Path DEFAULT = Path.of(System.getProperty("user.home"), ".autocert");

    private CliStorage() {
    }

    /** The storage directory of {@code settings}; empty when {@code autocert.storage} is a database or Vault. */
    static Optional<Path> directory(AutocertSettings settings) {
        if (settings.storageSettings().location().isPresent() && settings.storage().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(settings.storage().orElse(DEFAULT).toAbsolutePath().normalize());
    }

    /** Where the store is, for messages: its directory, or its URL without secrets. */
    static String where(AutocertSettings settings) {
        return directory(settings).map(Path::toString)
                .orElseGet(() -> StorageSettings.redact(settings.storageSettings().location().orElseThrow()));
    }

    /** The store {@code autocert.storage} names; with {@code dryRun}, one that reads it and writes nothing to it. */
    static Storage of(AutocertSettings settings, boolean dryRun) {
        Storage storage = Storage.of(settings, DEFAULT);
        if (directory(settings).isEmpty()) {
            // A database or Vault: connected and checked now, so that a wrong credential or a
            // missing mount is reported as such. (A directory is not created by a listing.)
            try {
                storage.open();
            } catch (IOException e) {
                throw new Failures.CommandFailure(ExitCodes.FAILURE, "Cannot open the storage " + where(settings) + ": "
                        + e.getMessage());
            }
        }
        return dryRun ? new DryRunStorage(storage) : storage;
    }

    /**
     * Every certificate in {@code storage} ({@link CertificateManager#storedCertificates()}), read
     * through an engine that needs nothing but the store: a listing must not fail on a DNS
     * provider's credentials or an account it does not use.
     */
    static List<StoredCertificate> list(Storage storage) throws IOException {
        AutocertSettings bare = AutocertSettings.builder().buildWithoutCertificates(); // orders nothing
        try (CertificateManager manager = CertificateManager.builder(bare).storage(storage).runsDeployHook(false).build()) {
            return manager.storedCertificates();
        }
    }

    /**
     * The file {@code live/LINEAGE/FILE} that other programs read, such as {@code fullchain.pem},
     * under {@code where} ({@link #where}); for a database or Vault, the key there.
     */
    static String live(String where, String lineage, String file) {
        String key = "live/" + lineage + (file.isEmpty() ? "" : "/" + file);
        return where.matches("[A-Za-z][A-Za-z0-9+.-]+:.*") ? where + " " + key : Path.of(where).resolve(key).toString();
    }
}
