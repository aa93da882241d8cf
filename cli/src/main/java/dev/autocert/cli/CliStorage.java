package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.FileStorage;
import dev.autocert.core.Storage;
import dev.autocert.core.StoredCertificate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The storage a verb works on: the directory in {@code autocert.storage}, or {@code ~/.autocert}
 * as for an engine given none, the same files and locks a server on that directory uses; for
 * {@code --dry-run}, a view of it that keeps every write in memory ({@link DryRunStorage}).
 */
final class CliStorage {

    private CliStorage() {
    }

    /** The storage directory of {@code settings}. */
    static Path directory(AutocertSettings settings) {
        return settings.storage().orElse(Path.of(System.getProperty("user.home"), ".autocert")).toAbsolutePath().normalize();
    }

    /** The store in {@link #directory}; with {@code dryRun}, one that reads it and writes nothing to it. */
    static Storage of(AutocertSettings settings, boolean dryRun) {
        FileStorage files = new FileStorage(directory(settings));
        return dryRun ? new DryRunStorage(files) : files;
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

    /** The file {@code live/LINEAGE/FILE} that other programs read, such as {@code fullchain.pem}. */
    static Path live(Path directory, String lineage, String file) {
        return directory.resolve("live").resolve(lineage).resolve(file);
    }
}
