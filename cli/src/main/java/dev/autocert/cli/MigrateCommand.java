package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code autocert migrate}: copies everything a store holds (accounts, every version of every
 * lineage, {@code live/}, renewal records and outcomes) into another store, such as from a
 * directory into PostgreSQL or Vault and back. The source is the usual settings
 * ({@code --storage}, {@code --config}); the destination is {@code --to} with its credentials
 * from {@code --to-config} or the environment. Every value copied is read back and compared.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Copies accounts and certificates (every version) from the storage of --storage/--config into another store: "
                + "a directory, jdbc:postgresql://… or vault:https://…. Values already there under the same keys are replaced; "
                + "nothing is deleted from either store. Each copied value is read back and compared.",
            "Stop renewals meanwhile (or run it when none is due): it takes no locks. Then point the servers' autocert.storage "
                    + "at the new store."})
final class MigrateCommand extends SettingsCommand {

    /** What a store holds besides locks and open challenges, in the order it is copied: the commit records after what they name. */
    static final List<String> PREFIXES = List.of("accounts", "archive", "ari", "renewal-options", "status", "renewal", "live");

    @Option(names = "--to", paramLabel = "LOCATION", order = 10,
            description = "The destination store: a directory, jdbc:postgresql://HOST/DB or vault:https://HOST:8200/MOUNT/PATH.")
    String to;

    @Option(names = "--to-config", paramLabel = "FILE", order = 11,
            description = "A properties file with the destination's autocert.storage and credentials (autocert.storage-username, "
                    + "autocert.storage-password, autocert.vault-*); --to overrides its autocert.storage.")
    Path toConfig;

    @Override
    public Integer call() throws Exception {
        AutocertSettings source = storageSettings();
        AutocertSettings destination = destination();
        String from = CliStorage.where(source);
        String into = CliStorage.where(destination);
        if (from.equals(into)) {
            throw new Failures.CommandFailure(ExitCodes.USAGE, "--to: " + into + " is the store being copied; name another one");
        }
        Console console = console();
        try (Storage in = CliStorage.of(source, false); Storage out = CliStorage.of(destination, false)) {
            in.open();
            out.open();
            Map<String, Integer> counts = copy(in, out, console);
            console.println("Copied " + counts.getOrDefault("renewal", 0) + " certificate(s) (" + counts.getOrDefault("archive", 0)
                    + " archived files), " + counts.getOrDefault("accounts", 0) + " account file(s) and "
                    + (counts.getOrDefault("status", 0) + counts.getOrDefault("renewal-options", 0)) + " record(s) from " + from
                    + " to " + into + "; every value read back and compared.");
            console.println("Next: set autocert.storage=" + into
                    + " on every server, and restart them.");
        }
        return ExitCodes.OK;
    }

    private AutocertSettings destination() {
        Map<String, String> values = new LinkedHashMap<>();
        if (toConfig != null) {
            values.putAll(SettingsOptions.read(toConfig));
        }
        if (to != null) {
            values.put(AutocertSettings.PREFIX + "storage", to.matches("[A-Za-z][A-Za-z0-9+.-]+:.*") ? to
                    : Path.of(to).toAbsolutePath().normalize().toString());
        }
        if (!values.containsKey(AutocertSettings.PREFIX + "storage")) {
            throw new Failures.CommandFailure(ExitCodes.USAGE, "migrate needs a destination: --to LOCATION or --to-config FILE "
                    + "with autocert.storage");
        }
        return AutocertSettings.builder().properties(values).buildWithoutCertificates();
    }

    /** Copies every prefix; returns how many values each had. */
    static Map<String, Integer> copy(Storage in, Storage out, Console console) throws IOException {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String prefix : PREFIXES) {
            List<String> keys = in.list(prefix);
            if (prefix.equals("live")) {
                // A set at a time, so that a Vault store keeps each live/NAME as one secret.
                Map<String, Map<String, byte[]>> sets = new TreeMap<>();
                for (String key : keys) {
                    int slash = key.lastIndexOf('/');
                    sets.computeIfAbsent(key.substring(0, slash), k -> new LinkedHashMap<>()).put(key.substring(slash + 1), read(in, key));
                }
                for (Map.Entry<String, Map<String, byte[]>> set : sets.entrySet()) {
                    out.storeSet(set.getKey(), set.getValue());
                    for (Map.Entry<String, byte[]> value : set.getValue().entrySet()) {
                        verify(out, set.getKey() + "/" + value.getKey(), value.getValue());
                    }
                }
            } else {
                for (String key : keys) {
                    byte[] value = read(in, key);
                    out.store(key, value);
                    verify(out, key, value);
                }
            }
            counts.put(prefix, keys.size());
            if (!keys.isEmpty()) {
                console.progress("Copied " + keys.size() + " value(s) under " + prefix + "/");
            }
        }
        return counts;
    }

    private static byte[] read(Storage in, String key) throws IOException {
        return in.load(key).orElseThrow(() -> new IOException(key + " vanished from " + in + " while being copied; run migrate again"));
    }

    private static void verify(Storage out, String key, byte[] expected) throws IOException {
        Optional<byte[]> stored = out.load(key);
        if (stored.isEmpty() || !Arrays.equals(stored.get(), expected)) {
            throw new IOException(key + " reads back " + (stored.isEmpty() ? "as missing" : "differently") + " from " + out
                    + " after it was copied there; nothing was removed from the source");
        }
    }
}
