package dev.autocert.cli;

import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateRevoker;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code autocert delete}: removes a certificate's lineage from storage, as {@code certbot
 * delete}: {@code renewal/NAME.properties}, {@code live/NAME}, every version in
 * {@code archive/NAME} and its ARI and status records, under the certificate's lock. Nothing is
 * revoked. A server configured for the name orders a new certificate at its next storage check.
 */
@Command(name = "delete", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Deletes a certificate's lineage from storage: every version in archive/, live/NAME and renewal/NAME.properties.",
            "Nothing is revoked. A running server configured for the name orders a new certificate within seconds "
                    + "(serving what it has until then); one that obtained it on demand stops serving it."})
final class DeleteCommand extends SettingsCommand {

    @Option(names = "--cert-name", paramLabel = "NAME", required = true, order = 10,
            description = "The certificate to delete: its lineage name, the first of its names ('autocert certificates' lists them).")
    String certName;

    @Option(names = {"-n", "--non-interactive"}, order = 11,
            description = "Delete without asking. Required when not on a terminal, where nobody can confirm.")
    boolean nonInteractive;

    @Override
    public Integer call() throws AutocertException {
        AutocertSettings settings = storageSettings();
        String storageDirectory = CliStorage.where(settings);
        CertificateRevoker revoker = new CertificateRevoker(settings, CliStorage.of(settings, false));
        requireStored(revoker, certName, storageDirectory);
        if (!nonInteractive) {
            if (!Prompt.available()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "delete asks before it removes " + certName
                        + " from " + storageDirectory + ", and there is no terminal to ask on; add -n (--non-interactive) to delete "
                        + "without asking");
            }
            if (!Prompt.ask("Delete certificate " + certName + " (every version, live/ and renewal/) from " + storageDirectory + "?",
                    false)) {
                throw new Failures.CommandFailure(ExitCodes.FAILURE, "Nothing deleted.");
            }
        }
        List<String> deleted = revoker.delete(certName);
        console().println("Deleted certificate " + certName + " from " + storageDirectory + " (" + files(deleted.size()) + ").");
        return ExitCodes.OK;
    }

    /** {@code 1 file}, {@code 9 files}. */
    static String files(int count) {
        return count + (count == 1 ? " file" : " files");
    }

    /** Fails with exit code 1, naming {@code --cert-name} and what is stored, unless {@code name} is a lineage in storage. */
    static void requireStored(CertificateRevoker revoker, String name, String storageDirectory) throws AutocertException {
        List<String> stored = revoker.names();
        String lineage = name.trim().toLowerCase(Locale.ROOT).replace('*', '_').replace(':', '_');
        if (!stored.contains(lineage)) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "--cert-name: no certificate named '" + name + "' in " + storageDirectory
                    + (stored.isEmpty() ? " (it holds none; check --storage or --config)" : "; stored: " + String.join(", ", stored)));
        }
    }
}
