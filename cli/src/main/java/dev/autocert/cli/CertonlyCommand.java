package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.ManagedCertificate;
import dev.autocert.core.RenewalResult;
import dev.autocert.core.StoredCertificate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code autocert certonly}: obtains one certificate now, for {@code -d} names (or a stored
 * {@code --cert-name}), answering http-01 on a standalone port or through {@code --webroot}, or
 * dns-01, or manual hooks. It stores the certificate through the engine, in the storage and under
 * the locks a server uses, so a server on that storage serves it within seconds. As Certbot, a
 * certificate with the same names that is not due yet is kept unless {@code --force-renewal}.
 */
@Command(name = "certonly", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Obtains a certificate now, for --domains (HTTP-01 on a standalone port, --webroot, DNS-01, or manual hooks).")
final class CertonlyCommand extends SettingsCommand {

    @Option(names = "--cert-name", paramLabel = "NAME", order = 10,
            description = "The certificate's name: one of its names, put first. Without -d, orders the stored or configured "
                    + "certificate of that name again.")
    String certName;

    @Option(names = {"--force-renewal", "--renew-by-default"}, order = 11,
            description = "Order a new certificate even if one with these names is stored and not due yet.")
    boolean forceRenewal;

    @Option(names = "--dry-run", order = 12,
            description = "Order a test certificate from the CA's staging endpoint (Let's Encrypt's; another CA's own) and "
                    + "store nothing; runs the pre and post hooks, not the deploy hooks.")
    boolean dryRun;

    @Option(names = {"-n", "--non-interactive"}, order = 13,
            description = "Accepted for Certbot's scripts: this verb never asks anything.")
    boolean nonInteractive;

    @Mixin
    ChallengeOptions challenges;

    @Mixin
    HookOptions hooks;

    @Override
    public Integer call() {
        Console console = console();
        AutocertSettings base = storageSettings();
        try (OrderRun run = new OrderRun(console, hooks, challenges, base, dryRun)) {
            List<String> domains = domains(base, run.directory());
            RenewalOptions options = RenewalOptions.given(spec, challenges);
            Optional<Path> webroot = challenges.webroot();
            AutocertSettings settings = run.adapt(base.toBuilder().set("domains", String.join(",", domains)).build(), webroot);
            ManagedCertificate certificate = settings.certificates().get(0);
            if (dryRun) {
                console.println("Simulating a certificate request for " + String.join(", ", certificate.domains()));
            }
            RenewalResult result = run.order(settings, webroot, forceRenewal || dryRun);
            if (result.issued()) {
                remember(options, run, certificate);
            }
            String fullchain = CliStorage.live(run.directory(), certificate.storageName(), "fullchain.pem");
            switch (result.outcome()) {
                case OBTAINED, RENEWED -> {
                    if (dryRun) {
                        console.println("The dry run was successful.");
                    } else {
                        console.println("Successfully received certificate.");
                        console.println("Certificate is saved at: " + fullchain);
                        console.println("Key is saved at:         " + CliStorage.live(run.directory(), certificate.storageName(),
                                "privkey.pem"));
                        console.println("This certificate expires on " + CertificateReport.DATE.format(result.certificate().notAfter())
                                + ".");
                    }
                }
                case NOT_DUE -> {
                    console.println("Certificate not yet due for renewal; no action taken.");
                    console.println(fullchain + " expires on " + CertificateReport.DATE.format(result.certificate().notAfter())
                            + " and is due for renewal on " + CertificateReport.DATE.format(result.due().orElseThrow())
                            + "; --force-renewal orders a new one now.");
                }
                case BUSY -> throw new Failures.CommandFailure(ExitCodes.FAILURE, "Another process holds the lock of "
                        + certificate.name() + " in " + run.directory() + " and was still ordering it after waiting; "
                        + "'autocert certificates' shows what it stored; run again later if you still need a new one");
                case FAILED -> throw new Failures.CommandFailure(ExitCodes.FAILURE, (dryRun ? "The dry run failed: " : "")
                        + result.failure().map(Throwable::getMessage).orElse("the order failed"));
            }
        }
        return ExitCodes.OK;
    }

    /** Records how this certificate's challenges were answered, for renew; a failure only warns. */
    private void remember(RenewalOptions options, OrderRun run, ManagedCertificate certificate) {
        try {
            options.store(run.storage(), certificate.storageName());
        } catch (IOException e) {
            console().error("autocert: warning: cannot record in " + run.directory() + " how " + certificate.name()
                    + " was obtained (" + e.getMessage() + "); renew it with the same options");
        }
    }

    /**
     * The names to order, the certificate's name first: those of {@code -d} (or of the settings
     * when they name one certificate), or with {@code --cert-name} alone those of the configured
     * or stored certificate of that name.
     */
    private List<String> domains(AutocertSettings base, String directory) {
        boolean domainsGiven = spec.commandLine().getParseResult().hasMatchedOption("--domains");
        List<ManagedCertificate> configured = base.certificates();
        String wanted = certName == null ? null : certName.trim().toLowerCase(Locale.ROOT);
        if (wanted != null && !domainsGiven) {
            Optional<List<String>> named = configured.stream().filter(c -> c.name().equals(wanted) || c.storageName().equals(wanted))
                    .map(ManagedCertificate::domains).findFirst().or(() -> stored(base, wanted));
            return named.orElseThrow(() -> new InvalidSettingException("--cert-name", "no certificate named '" + certName
                    + "' is configured or stored in " + directory + "; give its names with -d"));
        }
        if (configured.isEmpty()) {
            throw new InvalidSettingException(AutocertSettings.PREFIX + "domains", "required: the names to obtain a certificate "
                    + "for, such as -d example.com -d www.example.com (or --cert-name NAME of a stored certificate)");
        }
        if (configured.size() > 1) {
            throw new InvalidSettingException(AutocertSettings.PREFIX + "domains", "names " + configured.size() + " certificates ("
                    + String.join("; ", configured.stream().map(ManagedCertificate::name).toList()) + "); certonly obtains one: "
                    + "give its names with -d, or pick one with --cert-name");
        }
        List<String> domains = new ArrayList<>(configured.get(0).domains());
        if (wanted != null && !domains.get(0).equals(wanted)) {
            if (!domains.remove(wanted)) {
                throw new InvalidSettingException("--cert-name", "'" + certName + "' is not one of the names to order " + domains
                        + "; a certificate's name is one of its names: put it first with -d, or leave --cert-name out");
            }
            domains.add(0, wanted);
        }
        return domains;
    }

    private static Optional<List<String>> stored(AutocertSettings base, String wanted) {
        try {
            return CliStorage.list(CliStorage.of(base, false)).stream().filter(c -> c.name().equals(wanted) || c.lineage().equals(wanted))
                    .map(StoredCertificate::domains).filter(d -> !d.isEmpty()).findFirst();
        } catch (IOException e) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "Cannot read the storage " + CliStorage.where(base) + ": " + e);
        }
    }
}
