package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.RenewalResult;
import dev.autocert.core.StoredCertificate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * {@code autocert renew}: renews every certificate in storage that is due, by the engine's own
 * decision (the CA's ARI window when it offers one, otherwise a third of the lifetime left), or
 * only {@code --cert-name NAME}; {@code --force-renewal} renews whether due or not. Each
 * certificate keeps its own names, key type, CA and profile unless an option or {@code --config}
 * sets them. Exit 0 when every renewal succeeded or none was due, 1 when all failed, 3 when some
 * failed.
 */
@Command(name = "renew", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Renews every certificate that is due, or --cert-name NAME; --force-renewal, --dry-run.")
final class RenewCommand extends SettingsCommand {

    /** Settings a stored certificate keeps from its last order unless they are given. */
    private static final List<String> KEPT = List.of("key-type", "ca", "profile");

    @Option(names = "--cert-name", paramLabel = "NAME", order = 10,
            description = "Renew only the certificate of this name (its first domain, or its directory under live/).")
    String certName;

    @Option(names = {"--force-renewal", "--renew-by-default"}, order = 11, description = "Renew even certificates that are not due.")
    boolean forceRenewal;

    @Option(names = "--dry-run", order = 12,
            description = "Renew every certificate (due or not) from the CA's staging endpoint (Let's Encrypt's; another CA's own) "
                    + "and store nothing; runs the pre and post hooks, not the deploy hooks.")
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
        if (spec.commandLine().getParseResult().hasMatchedOption("--domains")) {
            throw new InvalidSettingException("--domains", "renew works on the stored certificates; pick one with --cert-name, "
                    + "or obtain or change one with 'autocert certonly -d …'");
        }
        Console console = console();
        AutocertSettings base = storageSettings();
        Set<String> given = givenSettings();
        RenewalOptions typed = RenewalOptions.given(spec, challenges);
        int renewed = 0;
        int notDue = 0;
        List<String> failed = new ArrayList<>();
        try (OrderRun run = new OrderRun(console, hooks, challenges, base, dryRun)) {
            List<StoredCertificate> certificates = lineages(base, run);
            if (certificates.isEmpty()) {
                console.println("No certificates found in " + run.directory() + ".");
                return ExitCodes.OK;
            }
            for (StoredCertificate certificate : certificates) {
                String fullchain = CliStorage.live(run.directory(), certificate.lineage(), "fullchain.pem");
                RenewalResult result;
                RenewalOptions options = RenewalOptions.load(run.storage(), certificate.lineage()).overriddenBy(typed);
                try {
                    Optional<Path> webroot = options.webroot(certificate.name());
                    AutocertSettings settings = run.adapt(options.applyTo(forCertificate(base, certificate, given)), webroot);
                    if (dryRun) {
                        console.println("Simulating renewal of " + certificate.name());
                    }
                    result = run.order(settings, webroot, forceRenewal || dryRun);
                    if (result.issued()) {
                        remember(options, run, certificate, console);
                    }
                } catch (InvalidSettingException e) {
                    failed.add(certificate.name());
                    console.error("autocert: " + certificate.name() + ": " + e.getMessage());
                    continue;
                }
                switch (result.outcome()) {
                    case OBTAINED, RENEWED -> {
                        renewed++;
                        console.println(certificate.name() + ": " + (dryRun ? "simulated renewal succeeded"
                                : "renewed, version " + result.certificate().version() + ", expires "
                                + CertificateReport.DATE.format(result.certificate().notAfter()) + ": " + fullchain));
                    }
                    case NOT_DUE -> {
                        notDue++;
                        console.println(certificate.name() + ": not due for renewal until "
                                + CertificateReport.DATE.format(result.due().orElseThrow()) + " (expires "
                                + CertificateReport.DATE.format(result.certificate().notAfter()) + ")");
                    }
                    case BUSY -> {
                        failed.add(certificate.name());
                        console.error("autocert: " + certificate.name() + ": another process holds its lock in " + run.directory()
                                + " and was still ordering it after waiting; run again later");
                    }
                    case FAILED -> {
                        failed.add(certificate.name());
                        console.error("autocert: " + certificate.name() + ": " + (dryRun ? "simulated renewal failed: " : "renewal failed: ")
                                + result.failure().map(Throwable::getMessage).orElse("the order failed"));
                    }
                }
            }
        }
        console.println(summary(renewed, notDue, failed));
        if (failed.isEmpty()) {
            return ExitCodes.OK;
        }
        return renewed > 0 ? ExitCodes.PARTIAL : ExitCodes.FAILURE;
    }

    /** Records how the certificate was renewed, for the next renew; a failure only warns. */
    private static void remember(RenewalOptions options, OrderRun run, StoredCertificate certificate, Console console) {
        try {
            options.store(run.storage(), certificate.lineage());
        } catch (IOException e) {
            console.error("autocert: warning: cannot record in " + run.directory() + " how " + certificate.name()
                    + " was renewed (" + e.getMessage() + ")");
        }
    }

    private String summary(int renewed, int notDue, List<String> failed) {
        List<String> parts = new ArrayList<>();
        if (renewed > 0) {
            parts.add(renewed + (dryRun ? " simulated renewal" + (renewed == 1 ? "" : "s") + " succeeded" : " renewed"));
        }
        if (notDue > 0) {
            parts.add(notDue + " not due");
        }
        if (!failed.isEmpty()) {
            parts.add(failed.size() + " failed (" + String.join(", ", failed) + ")");
        }
        return String.join(", ", parts) + ".";
    }

    /** The stored certificates to look at: all of them, or the one of {@code --cert-name}. */
    private List<StoredCertificate> lineages(AutocertSettings base, OrderRun run) {
        List<StoredCertificate> all;
        try {
            all = CliStorage.list(run.storage());
        } catch (IOException e) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "Cannot read the storage " + run.directory() + " ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + "); check autocert.storage and that this user may read it");
        }
        // a name whose first order failed has no lineage to renew: certonly obtains it
        List<StoredCertificate> lineages = all.stream().filter(StoredCertificate::hasLineage).toList();
        if (certName == null) {
            return lineages;
        }
        List<StoredCertificate> named = lineages.stream().filter(c -> c.name().equals(certName) || c.lineage().equals(certName)).toList();
        if (named.isEmpty()) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "--cert-name: no certificate named '" + certName + "' in "
                    + run.directory() + "; 'autocert certificates' lists those there, 'autocert certonly -d …' obtains one");
        }
        return named;
    }

    /**
     * The settings to renew {@code certificate} with: its own names, and its key type, CA and
     * profile unless options or config files set them, as Certbot keeps a lineage's renewal
     * parameters.
     */
    private static AutocertSettings forCertificate(AutocertSettings base, StoredCertificate certificate, Set<String> given) {
        if (certificate.domains().isEmpty()) {
            throw new InvalidSettingException(AutocertSettings.PREFIX + "domains", "the stored certificate's names cannot be read ("
                    + certificate.problem().orElse("renewal/" + certificate.lineage() + ".properties is damaged")
                    + "); obtain it anew with 'autocert certonly -d …'");
        }
        AutocertSettings.Builder builder = base.toBuilder().set("domains", String.join(",", certificate.domains()));
        certificate.current().ifPresent(version -> {
            if (!given.contains("key-type")) {
                version.keyType().ifPresent(builder::keyType);
            }
            if (!given.contains("ca")) {
                builder.set("ca", version.ca().toString());
            }
            if (!given.contains("profile")) {
                version.profile().ifPresent(builder::profile);
            }
        });
        return builder.build();
    }

    /** The settings among {@link #KEPT} that the command line or a {@code --config} file sets. */
    private Set<String> givenSettings() {
        Set<String> given = new HashSet<>();
        for (Path file : configFiles) {
            SettingsOptions.read(file).keySet().forEach(key -> given.add(key.substring(AutocertSettings.PREFIX.length())));
        }
        for (String name : KEPT) {
            OptionSpec option = spec.findOption("--" + name);
            if (option != null && spec.commandLine().getParseResult().hasMatchedOption(option)) {
                given.add(name);
            }
        }
        given.retainAll(KEPT);
        return given;
    }
}
