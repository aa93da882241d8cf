package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.Storage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * How a certificate's challenges were answered when the command last obtained it, kept for
 * {@code renew} as Certbot keeps a lineage's renewal parameters: {@code --webroot} and the
 * challenge settings typed on the command line ({@code --challenges}, {@code --http-port}, the
 * manual hooks, the DNS provider and its options), in {@code renewal-options/LINEAGE.properties}
 * in the storage. {@code certonly} records what it was given; {@code renew} uses what was
 * recorded unless its own command line says otherwise, and records the result. The DNS
 * credentials stay in their file, of which only the path is recorded, and the EAB key is never
 * recorded; like everything in storage, the file is readable by its owner only. Servers do not
 * read it: they answer challenges as their own settings say. Immutable.
 */
final class RenewalOptions {

    /** The settings recorded: those that say how challenges are answered, never a secret. */
    static final List<String> SETTINGS = List.of("challenges", "http-port", "manual-auth-hook", "manual-cleanup-hook", "dns-provider",
            "dns-credentials", "dns-credentials-permissions", "dns-propagation-timeout", "dns-polling-interval", "dns-ttl",
            "dns-resolvers", "dns-propagation-check", "preferred-chain");
    private static final String WEBROOT = "webroot";
    private static final String STANDALONE = "standalone";
    private static final String PREFIX = "renewal-options/";
    /** The ways to answer http-01, one of which replaces the others. */
    private static final List<String> HTTP01_ANSWERS = List.of(WEBROOT, STANDALONE, "manual-auth-hook", "manual-cleanup-hook");

    /** Setting name (or {@code webroot}, {@code standalone}) to value. */
    private final Map<String, String> values;

    private RenewalOptions(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /** What the command line of {@code spec} gives, with {@code challenges}' --webroot or --standalone. */
    static RenewalOptions given(CommandSpec spec, ChallengeOptions challenges) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String name : SETTINGS) {
            OptionSpec option = spec.findOption("--" + name);
            if (option != null && spec.commandLine().getParseResult().hasMatchedOption(option) && option.getValue() != null) {
                String value = option.getValue().toString();
                values.put(name, name.equals("dns-credentials") && !value.isBlank() ? Path.of(value).toAbsolutePath().normalize().toString()
                        : value);
            }
        }
        challenges.webroot().ifPresent(path -> values.put(WEBROOT, path.toString()));
        if (challenges.standalone) {
            values.put(STANDALONE, "true");
        }
        return new RenewalOptions(values);
    }

    /** What was recorded for {@code lineage}; none when nothing was, or it cannot be read (a summary, not a reason to fail). */
    static RenewalOptions load(Storage storage, String lineage) {
        try {
            Optional<byte[]> bytes = storage.load(PREFIX + lineage + ".properties");
            if (bytes.isEmpty()) {
                return new RenewalOptions(Map.of());
            }
            Properties p = new Properties();
            p.load(new ByteArrayInputStream(bytes.get()));
            Map<String, String> values = new LinkedHashMap<>();
            for (String name : p.stringPropertyNames()) {
                if (SETTINGS.contains(name) || name.equals(WEBROOT) || name.equals(STANDALONE)) {
                    values.put(name, p.getProperty(name));
                }
            }
            return new RenewalOptions(values);
        } catch (IOException | RuntimeException e) {
            return new RenewalOptions(Map.of());
        }
    }

    /** Records these for {@code lineage}, replacing what was recorded. */
    void store(Storage storage, String lineage) throws IOException {
        Properties p = new Properties();
        values.forEach(p::setProperty);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.store(out, "autocert certonly/renew: how this certificate's challenges are answered; renew uses it unless told otherwise");
        storage.store(PREFIX + lineage + ".properties", out.toByteArray());
    }

    /**
     * These, with {@code given} (a command line) winning. The ways to answer http-01 go together:
     * given one of {@code --standalone}, {@code --webroot} or the manual hooks, none recorded is kept.
     */
    RenewalOptions overriddenBy(RenewalOptions given) {
        Map<String, String> merged = new LinkedHashMap<>(values);
        if (HTTP01_ANSWERS.stream().anyMatch(given.values::containsKey)) {
            HTTP01_ANSWERS.forEach(merged::remove);
        }
        merged.putAll(given.values);
        return new RenewalOptions(merged);
    }

    /** {@code settings} with these challenge settings set. */
    AutocertSettings applyTo(AutocertSettings settings) {
        AutocertSettings.Builder builder = settings.toBuilder();
        values.forEach((name, value) -> {
            if (SETTINGS.contains(name)) {
                builder.set(name, value);
            }
        });
        return builder.build();
    }

    /**
     * The web root to answer http-01 in, if one is recorded or given.
     *
     * @throws InvalidSettingException naming {@code --webroot} when it is no longer a directory
     */
    Optional<Path> webroot(String name) {
        String value = values.get(WEBROOT);
        if (value == null) {
            return Optional.empty();
        }
        Path path = Path.of(value);
        if (!Files.isDirectory(path)) {
            throw new InvalidSettingException("--webroot", "'" + path + "', with which " + name + " was obtained, is not a directory "
                    + "any more; give the web root now with --webroot PATH, or --standalone");
        }
        return Optional.of(path);
    }

    /** What is recorded, for messages: names and values, as typed. */
    @Override
    public String toString() {
        return values.toString();
    }
}
