package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.KeyType;
import dev.autocert.core.Storage;
import dev.autocert.core.StorageImport;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code autocert import-certbot [DIR]}: takes over Certbot's lineages and account, so that a
 * server with the same names serves and renews them and Certbot's timer can go.
 *
 * <p>Every version of each lineage is imported with Certbot's numbering, the one
 * {@code live/NAME} points to made current, with the CA of its renewal file recorded; the
 * account those lineages renew with is imported for that CA, so the server registers no new
 * one. The renewal options become settings: the command prints the {@code autocert.*} lines to
 * add, and says what has no equivalent and what to set instead. Certbot's directory is only read.
 */
@Command(name = "import-certbot", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Takes over Certbot's certificates and account from /etc/letsencrypt (or DIR) into the storage, so that a "
                + "server with the same names serves and renews them, and Certbot's timer can go.",
            "Every version is imported with Certbot's numbers; the CA and the account stay the same. Prints the settings to add "
                    + "and what could not be carried over."})
final class ImportCertbotCommand extends SettingsCommand {

    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC);

    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", defaultValue = "/etc/letsencrypt",
            description = "Certbot's configuration directory (its --config-dir). Default: ${DEFAULT-VALUE}.")
    Path directory;

    @Option(names = "--cert-name", paramLabel = "NAME", order = 10,
            description = "Import only this Certbot certificate (its name in DIR/renewal/NAME.conf, as 'certbot certificates' shows it). "
                    + "Repeatable; all by default.")
    List<String> certNames = new ArrayList<>();

    @Option(names = "--force", order = 11,
            description = "Replace a certificate stored under the same name, and the account stored for the same CA.")
    boolean force;

    @Option(names = "--dry-run", order = 12, description = "Show what would be imported and the settings to add; write nothing.")
    boolean dryRun;

    /** A lineage taken over, and what it needs of the settings. */
    private record Imported(CertbotDirectory.Lineage lineage, List<String> domains, CertifiedKey stored, CertbotSettings settings,
            boolean already) {
    }

    @Override
    public Integer call() throws IOException {
        AutocertSettings settings = storageSettings();
        String storageDirectory = CliStorage.where(settings);
        CertbotDirectory certbot = CertbotDirectory.open(directory);
        List<String> names = selected(certbot);
        Storage storage = CliStorage.of(settings, dryRun);
        try {
            storage.open();
        } catch (IOException e) {
            throw new InvalidSettingException(AutocertSettings.PREFIX + "storage", e.getMessage());
        }
        StorageImport imports = new StorageImport(storage);
        Console console = console();

        Map<String, String> failed = new LinkedHashMap<>();
        List<Candidate> candidates = new ArrayList<>();
        for (String name : names) {
            console.progress("Reading " + name + " from " + certbot.root());
            try {
                candidates.add(candidate(certbot.lineage(name)));
            } catch (CertbotDirectory.Unusable e) {
                failed.put(name, e.getMessage());
            }
        }
        List<Candidate> accepted = withoutOverlaps(candidates, failed);

        List<Imported> imported = new ArrayList<>();
        for (Candidate candidate : accepted) {
            console.progress("Importing " + candidate.lineage().name());
            importLineage(imports, candidate, storageDirectory).ifPresentOrElse(imported::add,
                    () -> failed.put(candidate.lineage().name(), candidate.problem));
        }
        List<String> accountLines = new ArrayList<>();
        List<String> todo = new ArrayList<>();
        Optional<String> email = importAccounts(certbot, imports, imported, accountLines, todo);

        report(console, certbot, storageDirectory, imported, accountLines, failed, todo, email);
        if (failed.isEmpty()) {
            return ExitCodes.OK;
        }
        return imported.isEmpty() ? ExitCodes.FAILURE : ExitCodes.PARTIAL;
    }

    /** The lineages to import: those of {@code --cert-name}, or all. */
    private List<String> selected(CertbotDirectory certbot) throws IOException {
        List<String> all = certbot.lineageNames();
        if (all.isEmpty()) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "Certbot has no certificate in " + certbot.root().resolve("renewal")
                    + " (no NAME.conf); nothing to import");
        }
        if (certNames.isEmpty()) {
            return all;
        }
        for (String name : certNames) {
            if (!all.contains(name)) {
                throw new Failures.CommandFailure(ExitCodes.FAILURE, "--cert-name: Certbot has no certificate named '" + name + "' in "
                        + certbot.root() + "; it has " + String.join(", ", all));
            }
        }
        return all.stream().filter(certNames::contains).toList();
    }

    /** A lineage read from Certbot's directory, with the names Autocert will keep it under. */
    private static final class Candidate {
        final CertbotDirectory.Lineage lineage;
        final List<String> domains;
        final KeyType keyType;
        String problem;

        Candidate(CertbotDirectory.Lineage lineage, List<String> domains, KeyType keyType) {
            this.lineage = lineage;
            this.domains = domains;
            this.keyType = keyType;
        }

        CertbotDirectory.Lineage lineage() {
            return lineage;
        }
    }

    private static Candidate candidate(CertbotDirectory.Lineage lineage) throws CertbotDirectory.Unusable {
        CertifiedKey current = lineage.currentKey();
        if (current.names().isEmpty()) {
            throw new CertbotDirectory.Unusable("its certificate (version " + lineage.current() + ") names no DNS name or address");
        }
        KeyType keyType = StorageImport.keyType(current).orElseThrow(() -> new CertbotDirectory.Unusable("its key ("
                + current.certificate().getPublicKey().getAlgorithm() + ", version " + lineage.current() + ") is of a type "
                + AutocertSettings.PREFIX + "key-type cannot make, so the server would replace it at once; re-issue it with "
                + "Certbot's --key-type ecdsa first, or let the server order a new one"));
        return new Candidate(lineage, domains(lineage.name(), current.names()), keyType);
    }

    /**
     * The certificate's names with the one to keep it under first: Certbot's lineage name when
     * it is one of them (also without the {@code -0001} Certbot adds to a second lineage of the
     * same name), otherwise the certificate's first name.
     */
    static List<String> domains(String lineageName, List<String> names) {
        List<String> result = new ArrayList<>(new java.util.LinkedHashSet<>(names));
        String base = lineageName.replaceFirst("-\\d{4}$", "");
        String first = result.contains(lineageName) ? lineageName : result.contains(base) ? base : result.get(0);
        result.remove(first);
        result.add(0, first);
        return List.copyOf(result);
    }

    /**
     * The candidates whose names no other candidate has: Autocert keeps each name on one
     * certificate. Where two share a name, a valid certificate wins over an expired one, then
     * the one with more names (nothing it covers goes unserved), then the one that expires last.
     */
    private static List<Candidate> withoutOverlaps(List<Candidate> candidates, Map<String, String> failed) {
        java.time.Instant now = java.time.Instant.now();
        List<Candidate> preferred = new ArrayList<>(candidates);
        preferred.sort(Comparator.comparing((Candidate c) -> c.lineage.currentKey().validAt(now)).reversed()
                .thenComparing(Comparator.comparing((Candidate c) -> c.domains.size()).reversed())
                .thenComparing(Comparator.comparing((Candidate c) -> c.lineage.currentKey().notAfter()).reversed()));
        List<Candidate> accepted = new ArrayList<>();
        Map<String, String> owner = new LinkedHashMap<>();
        for (Candidate candidate : preferred) {
            List<String> taken = candidate.domains.stream().filter(owner::containsKey).toList();
            if (!taken.isEmpty()) {
                failed.put(candidate.lineage.name(), "its names " + String.join(", ", taken) + " are also on Certbot's certificate "
                        + owner.get(taken.get(0)) + ", imported instead; Autocert keeps each name on one certificate. Delete this one with 'certbot delete --cert-name " + candidate.lineage.name() + "' if it is "
                        + "no longer needed");
                continue;
            }
            candidate.domains.forEach(d -> owner.put(d, candidate.lineage.name()));
            accepted.add(candidate);
        }
        accepted.sort(Comparator.comparing(c -> candidates.indexOf(c)));
        return accepted;
    }

    /** Imports one lineage; on failure sets {@code candidate.problem} and returns empty. */
    private Optional<Imported> importLineage(StorageImport imports, Candidate candidate, String storageDirectory) throws IOException {
        CertbotDirectory.Lineage lineage = candidate.lineage;
        String first = candidate.domains.get(0);
        String liveDirectory = CliStorage.live(storageDirectory, StorageImport.lineageName(candidate.domains), "");
        CertbotSettings mapped = CertbotSettings.of(lineage.conf(), lineage.server(), lineage.name(), candidate.domains,
                candidate.keyType, liveDirectory);
        CertifiedKey certbotCurrent = lineage.currentKey();
        Optional<CertifiedKey> stored = imports.current(first);
        if (stored.isPresent() && stored.get().serial().equals(certbotCurrent.serial()) && !force) {
            return Optional.of(new Imported(lineage, candidate.domains, stored.get(), mapped, true));
        }
        if (imports.hasLineage(first) && !force) {
            candidate.problem = "the storage already holds a certificate " + first + stored.map(s -> " (version " + s.version()
                    + ", serial " + s.serial() + ", valid until " + DAY.format(s.notAfter()) + ")").orElse(" (damaged)")
                    + " that is not Certbot's current one; run with --force to replace it with Certbot's";
            return Optional.empty();
        }
        try {
            CertifiedKey key = imports.importLineage(candidate.domains, lineage.versions(), lineage.current(), lineage.server(), force);
            return Optional.of(new Imported(lineage, candidate.domains, key, mapped, false));
        } catch (IllegalArgumentException | IllegalStateException e) {
            candidate.problem = e.getMessage();
            return Optional.empty();
        }
    }

    /**
     * Imports, for each CA the imported lineages came from, the Certbot account most of them
     * renew with. Lines for the report go to {@code lines} and {@code todo}.
     *
     * @return the account's e-mail address, when Certbot kept it
     */
    private Optional<String> importAccounts(CertbotDirectory certbot, StorageImport imports, List<Imported> imported, List<String> lines,
            List<String> todo) throws IOException {
        Map<URI, Map<String, List<String>>> byServer = new LinkedHashMap<>();
        for (Imported lineage : imported) {
            lineage.lineage().accountId().ifPresent(id -> byServer.computeIfAbsent(lineage.lineage().server(), s -> new LinkedHashMap<>())
                    .computeIfAbsent(id, i -> new ArrayList<>()).add(lineage.lineage().name()));
        }
        Optional<String> email = Optional.empty();
        Set<String> used = new HashSet<>();
        for (Map.Entry<URI, Map<String, List<String>>> server : byServer.entrySet()) {
            URI ca = server.getKey();
            List<Map.Entry<String, List<String>>> accounts = new ArrayList<>(server.getValue().entrySet());
            accounts.sort(Comparator.comparing((Map.Entry<String, List<String>> e) -> e.getValue().size()).reversed());
            CertbotDirectory.Account account = null;
            List<String> unreadable = new ArrayList<>();
            for (Map.Entry<String, List<String>> candidate : accounts) {
                try {
                    account = certbot.account(ca, candidate.getKey());
                    break;
                } catch (CertbotDirectory.Unusable e) {
                    unreadable.add(e.getMessage());
                }
            }
            if (account == null) {
                todo.add("account at " + ca + ": " + String.join("; ", unreadable) + ". The server registers a new account there at its "
                        + "first order: set " + AutocertSettings.PREFIX + "email and " + AutocertSettings.PREFIX + "agree-tos=true");
                continue;
            }
            used.add(CertbotDirectory.serverPath(ca) + "/" + account.id());
            email = email.or(account::email);
            Optional<URI> existing = imports.accountLocation(ca);
            if (existing.isPresent() && existing.get().equals(account.location())) {
                lines.add("Account " + account.location() + " at " + ca + ": already imported");
            } else if (existing.isPresent() && !force) {
                lines.add("Account at " + ca + ": the storage already has " + existing.get() + "; kept it, and renewals use it "
                        + "(--force replaces it with Certbot's " + account.location() + ")");
            } else {
                imports.importAccount(ca, account.keyPair(), account.location());
                lines.add("Imported the account " + account.location() + " at " + ca + " (Certbot's account " + account.id() + ")");
            }
            for (Map.Entry<String, List<String>> other : accounts) {
                if (!other.getKey().equals(account.id())) {
                    lines.add("  Certbot's account " + other.getKey() + " (of " + String.join(", ", other.getValue()) + ") was left: "
                            + "the server keeps one account per CA, and renews those with " + account.location());
                }
            }
        }
        List<String> left = certbot.accountPaths().stream().filter(p -> !used.contains(p)).toList();
        if (!left.isEmpty() && !imported.isEmpty()) {
            lines.add("Left Certbot's accounts no imported certificate uses: " + String.join(", ", left));
        }
        return email;
    }

    private void report(Console console, CertbotDirectory certbot, String storageDirectory, List<Imported> imported,
            List<String> accountLines, Map<String, String> failed, List<String> todo, Optional<String> email) {
        String verb = dryRun ? "Would import" : "Imported";
        if (!imported.isEmpty()) {
            console.println(verb + " " + imported.size() + " certificate" + (imported.size() == 1 ? "" : "s") + " from " + certbot.root()
                    + " into " + storageDirectory + ":");
            for (Imported lineage : imported) {
                CertifiedKey key = lineage.stored();
                CertbotDirectory.Lineage certbotLineage = lineage.lineage();
                String renamed = certbotLineage.name().equals(lineage.domains().get(0)) ? "" : " (Certbot's " + certbotLineage.name() + ")";
                console.println("  " + lineage.domains().get(0) + renamed + ": " + (lineage.already() ? "already imported, " : "")
                        + versions(certbotLineage) + ", current " + certbotLineage.current() + " (serial " + key.serial()
                        + ", valid until " + DAY.format(key.notAfter()) + "), for " + String.join(", ", lineage.domains()));
                certbotLineage.skipped().forEach(line -> console.println("    " + line));
                lineage.settings().notes().forEach(line -> console.println("    note: " + line));
                lineage.settings().todo().forEach(line -> todo.add(lineage.domains().get(0) + ": " + line));
            }
        }
        accountLines.forEach(console::println);
        if (!failed.isEmpty()) {
            console.error("Not imported:");
            failed.forEach((name, why) -> console.error("  " + name + ": " + why));
        }
        if (imported.isEmpty()) {
            return;
        }
        if (!todo.isEmpty()) {
            console.println("To do before Certbot's renewals stop:");
            todo.forEach(line -> console.println("  " + line));
        }
        Map<String, String> properties = properties(imported, storageDirectory, email, console);
        console.println("Add to the server's settings (autocert.properties, start.d/autocert.ini or application.properties):");
        properties.forEach((key, value) -> console.println(key + "=" + value));
        try {
            AutocertSettings.builder().properties(properties).build();
        } catch (InvalidSettingException e) {
            console.error("autocert: these settings are not complete yet: " + e.getMessage());
        }
        if (dryRun) {
            console.println("Nothing was written (--dry-run).");
        } else {
            console.println("Once the server serves them, stop Certbot's renewals (systemctl disable --now certbot.timer, or remove "
                    + "/etc/cron.d/certbot) and keep " + certbot.root() + " as a backup.");
        }
    }

    /**
     * The settings for the imported lineages: each setting their renewal options agree on, and,
     * where they differ, the value most of them need, with a note on what changes for the others.
     */
    private static Map<String, String> properties(List<Imported> imported, String storageDirectory, Optional<String> email, Console console) {
        Map<String, String> properties = new LinkedHashMap<>();
        String p = AutocertSettings.PREFIX;
        properties.put(p + "domains", imported.stream().map(i -> String.join(",", i.domains())).collect(Collectors.joining(";")));
        properties.put(p + "storage", storageDirectory.toString());
        List<String> cas = ranked(imported, "ca");
        properties.put(p + "ca", String.join(",", cas));
        if (cas.size() > 1) {
            console.println("note: the certificates come from " + cas.size() + " CAs; the server orders each renewal from the first of "
                    + p + "ca, " + cas.get(0) + ", unless it fails");
        }
        List<String> challenges = imported.stream().map(i -> i.settings().settings().get("challenges")).filter(c -> c != null)
                .distinct().sorted(Comparator.comparing(c -> c.equals(CertbotSettings.HTTP_01) ? 0 : 1)).toList();
        if (!challenges.isEmpty() && !challenges.equals(List.of(CertbotSettings.HTTP_01))) {
            properties.put(p + "challenges", String.join(",", challenges));
            if (challenges.size() > 1) {
                console.println("note: with " + p + "challenges=" + String.join(",", challenges) + " names without a wildcard are "
                        + "validated over " + challenges.get(0) + ", whichever Certbot plugin got them");
            }
        }
        for (String name : List.of("key-type", "http-port", "manual-auth-hook", "manual-cleanup-hook", "dns-provider", "dns-credentials",
                "preferred-chain", "deploy-hook")) {
            List<String> values = ranked(imported, name);
            if (values.isEmpty()) {
                continue;
            }
            if (!(name.equals("key-type") && values.get(0).equals(KeyType.EC_P256.id()))) { // the default goes without saying
                properties.put(p + name, values.get(0));
            }
            if (values.size() > 1) {
                List<String> others = imported.stream().filter(i -> i.settings().settings().containsKey(name)
                        && !i.settings().settings().get(name).equals(values.get(0)))
                        .map(i -> i.domains().get(0) + " (" + i.settings().settings().get(name) + ")").toList();
                console.println("note: " + p + name + " is one setting for all certificates, " + values.get(0) + " for most; "
                        + (name.equals("key-type") ? "the server replaces the certificates of " + String.join(", ", others)
                                + " with " + values.get(0) + " ones when it starts"
                                : "Certbot used another value for " + String.join(", ", others)));
            }
        }
        email.ifPresent(address -> properties.put(p + "email", address));
        return properties;
    }

    /** The values the lineages need for setting {@code name}, the most needed first. */
    private static List<String> ranked(List<Imported> imported, String name) {
        Map<String, Long> counts = imported.stream().map(i -> i.settings().settings().get(name)).filter(v -> v != null)
                .collect(Collectors.groupingBy(v -> v, LinkedHashMap::new, Collectors.counting()));
        return counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).map(Map.Entry::getKey).toList();
    }

    /** The version numbers of a lineage, runs written as ranges: {@code versions 1-3, 5}. */
    private static String versions(CertbotDirectory.Lineage lineage) {
        List<Integer> numbers = new ArrayList<>(lineage.versions().keySet());
        List<String> runs = new ArrayList<>();
        for (int i = 0; i < numbers.size(); ) {
            int j = i;
            while (j + 1 < numbers.size() && numbers.get(j + 1) == numbers.get(j) + 1) {
                j++;
            }
            runs.add(i == j ? String.valueOf(numbers.get(i)) : numbers.get(i) + "-" + numbers.get(j));
            i = j + 1;
        }
        return (numbers.size() == 1 ? "version " : "versions ") + String.join(", ", runs);
    }
}
