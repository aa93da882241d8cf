package dev.autocert.cli;

import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateRevoker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.shredzone.acme4j.RevocationReason;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code autocert revoke}: revokes a certificate at the CA that issued it, as {@code certbot
 * revoke}. A stored certificate ({@code --cert-name}, or a {@code --cert-path} that a lineage
 * holds) is then recorded as revoked, so that every server on the storage replaces it within
 * seconds, or deleted with {@code --delete-after-revoke}.
 */
@Command(name = "revoke", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Revokes a certificate at the CA that issued it: --cert-name NAME (its current version) or --cert-path FILE.",
            "Servers on the same storage replace a revoked certificate within seconds, without a restart; "
                    + "--delete-after-revoke deletes its lineage instead (a server configured for the name then orders a new one)."})
final class RevokeCommand extends SettingsCommand {

    /** Certbot's reasons, as its {@code --reason} spells them. */
    private static final List<String> REASONS = List.of("unspecified", "keycompromise", "affiliationchanged", "superseded",
            "cessationofoperation");

    @ArgGroup(exclusive = true, multiplicity = "1", order = 10)
    Target target;

    /** Which certificate: exactly one of the two. */
    static final class Target {
        @Option(names = "--cert-name", paramLabel = "NAME", required = true,
                description = "The certificate in storage: its lineage name, the first of its names ('autocert certificates' lists them).")
        String certName;

        @Option(names = "--cert-path", paramLabel = "FILE", required = true,
                description = "A PEM certificate file, such as STORAGE/live/NAME/cert.pem, or one issued elsewhere (then sent to the "
                        + "first --ca).")
        Path certPath;
    }

    @Option(names = "--key-path", paramLabel = "FILE", order = 11,
            description = "The certificate's private key (PEM), with --cert-path: the request is signed with it rather than with the "
                    + "stored account, as for a certificate another account obtained.")
    Path keyPath;

    @Option(names = "--reason", paramLabel = "REASON", order = 12, defaultValue = "unspecified", converter = ReasonConverter.class,
            completionCandidates = ReasonCandidates.class,
            description = "Why: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    RevocationReason reason;

    @Option(names = "--delete-after-revoke", negatable = true, order = 13,
            description = {"Delete the lineage (every version, live/, renewal/) after revoking it. Without either option a terminal "
                    + "asks (default no); without a terminal, or with -n, it is kept and recorded as revoked, so servers replace it "
                    + "in place."})
    Boolean deleteAfterRevoke;

    @Option(names = {"-n", "--non-interactive"}, order = 14, description = "Never ask; keep the lineage unless --delete-after-revoke.")
    boolean nonInteractive;

    @Override
    public Integer call() throws AutocertException {
        AutocertSettings settings = storageSettings();
        String storageDirectory = CliStorage.where(settings);
        CertificateRevoker revoker = new CertificateRevoker(settings, CliStorage.of(settings, false));
        Console console = console();
        if (keyPath != null && target.certPath == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--key-path goes with --cert-path; a certificate named with --cert-name is revoked with the stored account, "
                            + "or with its own stored key when there is none");
        }
        CertificateRevoker.Revocation revocation;
        if (target.certName != null) {
            DeleteCommand.requireStored(revoker, target.certName, storageDirectory);
            boolean delete = deleteChoice(target.certName, storageDirectory);
            console.progress("Revoking " + target.certName + " at its CA…");
            revocation = revoker.revoke(target.certName, reason, delete);
        } else {
            checkReadable("--cert-path", target.certPath);
            if (keyPath != null) {
                checkReadable("--key-path", keyPath);
            }
            console.progress("Revoking " + target.certPath + "…");
            revocation = revoker.revoke(target.certPath, Optional.ofNullable(keyPath), reason, Boolean.TRUE.equals(deleteAfterRevoke));
        }
        report(console, revocation, storageDirectory);
        return ExitCodes.OK;
    }

    /** Whether to delete after revoking: as asked, else the person at the terminal says, else keep. */
    private boolean deleteChoice(String name, String storageDirectory) {
        if (deleteAfterRevoke != null) {
            return deleteAfterRevoke;
        }
        if (nonInteractive || !Prompt.available()) {
            return false;
        }
        return Prompt.ask("After revoking " + name + ", delete its lineage (every version, live/ and renewal/) from " + storageDirectory
                + "? Either way, a server configured for it orders a new certificate; kept, the new one lands in the same live/ files.",
                false);
    }

    private void report(Console console, CertificateRevoker.Revocation r, String storageDirectory) {
        String what = r.name().map(n -> "certificate " + n + " (version " + r.version() + ", serial " + r.serial() + ")")
                .orElse("certificate serial " + r.serial());
        console.println((r.alreadyRevoked() ? "Already revoked: " : "Revoked ") + what + " for " + String.join(", ", r.domains())
                + " at " + r.ca() + ", reason " + reasonName(r.reason())
                + (r.withCertificateKey() ? ", signed with the certificate's key" : "") + ".");
        if (!r.deleted().isEmpty()) {
            console.println("Deleted certificate " + r.name().orElseThrow() + " from " + storageDirectory + " ("
                    + DeleteCommand.files(r.deleted().size()) + "). A server configured for it orders a new one.");
        } else if (r.replaced()) {
            console.println("Recorded in " + storageDirectory + ": servers using it order a new certificate within seconds. With none "
                    + "running, 'autocert renew --cert-name " + r.name().orElseThrow() + "' replaces it.");
        } else if (r.name().isPresent()) {
            console.println("It is an earlier version of " + r.name().get() + "; the current version is unchanged.");
        } else {
            console.println("No lineage in " + storageDirectory + " holds it; nothing changed in storage.");
        }
    }

    private static void checkReadable(String option, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, option + ": '" + file + "' " + (Files.exists(file) ? "is not a file"
                    : "does not exist") + "; give the path of a PEM file");
        }
        if (!Files.isReadable(file)) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, option + ": '" + file + "' cannot be read (permission denied); "
                    + "run as its owner");
        }
    }

    /** Certbot's spelling of a reason: {@code keycompromise}. */
    static String reasonName(RevocationReason reason) {
        return reason.name().replace("_", "").toLowerCase(Locale.ROOT);
    }

    /** Reads Certbot's reason names, in any case. */
    static final class ReasonConverter implements CommandLine.ITypeConverter<RevocationReason> {
        @Override
        public RevocationReason convert(String value) {
            for (RevocationReason reason : RevocationReason.values()) {
                if (REASONS.contains(reasonName(reason)) && reasonName(reason).equalsIgnoreCase(value.replace("-", "").replace("_", ""))) {
                    return reason;
                }
            }
            throw new CommandLine.TypeConversionException("expected one of " + String.join(", ", REASONS) + " but was '" + value + "'");
        }
    }

    /** The reasons, for help and completion. */
    static final class ReasonCandidates implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return REASONS.iterator();
        }
    }
}
