package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.StoredCertificate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code autocert certificates}: every certificate in storage, whichever process obtained it, with
 * its names, expiry, issuer, key type, profile, serial, version, the last renewal outcome as the
 * process that renews it recorded it, and its {@code live/} paths; {@code --json} for scripts.
 * Reads storage only: no network, no lock.
 */
@Command(name = "certificates", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Lists the certificates in storage: names, expiry, issuer, key type, profile, last renewal outcome, paths.")
final class CertificatesCommand extends SettingsCommand {

    @Option(names = "--cert-name", paramLabel = "NAME", order = 10,
            description = "Only the certificate of this name (its first domain, or its directory under live/).")
    String certName;

    @Option(names = "--json", order = 11,
            description = "Print a JSON array for scripts instead (its fields are listed in docs/cli.md).")
    boolean json;

    @Override
    public Integer call() {
        AutocertSettings settings = storageSettings();
        String directory = CliStorage.where(settings);
        List<StoredCertificate> certificates;
        try {
            certificates = CliStorage.list(CliStorage.of(settings, false));
        } catch (IOException e) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "Cannot read the storage " + directory + " ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + "); check autocert.storage and that this user may read it");
        }
        if (certName != null) {
            certificates = certificates.stream().filter(c -> c.name().equals(certName) || c.lineage().equals(certName)).toList();
            if (certificates.isEmpty()) {
                throw new Failures.CommandFailure(ExitCodes.FAILURE, "--cert-name: no certificate named '" + certName + "' in "
                        + directory + "; 'autocert certificates' lists those there");
            }
        }
        CertificateReport report = new CertificateReport(certificates, directory, Instant.now());
        Console console = console();
        if (json) {
            console.println(report.json());
        } else {
            String text = report.text(CertificateReport.colourTerminal());
            if (certificates.isEmpty() && CliStorage.directory(settings).map(d -> !Files.isDirectory(d)).orElse(false)) {
                text += " The directory does not exist: check --storage (autocert.storage) or --config.";
            }
            console.println(text);
        }
        return ExitCodes.OK;
    }
}
