package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The {@code autocert.*} settings on the command line: an option {@code --NAME} for each setting
 * (the same names as everywhere: {@code --domains}, {@code --storage}, {@code --dns-provider}, …,
 * with Certbot's short forms {@code -d} and {@code -m}), over the settings of {@code --config}
 * files, over the defaults. Relative paths in a Jetty {@code start.d/*.ini} are resolved against
 * {@code $JETTY_BASE}, in other files against the file's directory, as the servers resolve them.
 */
final class SettingsOptions {

    /** Settings whose value is a path. */
    private static final Set<String> PATHS = Set.of("storage", "ca-trust", "dns-credentials", "vault-token-file",
            "vault-secret-id-file", "vault-ca-cert");
    /** A URL (jdbc:postgresql:…, vault:…), which is no path to resolve. */
    private static final java.util.regex.Pattern URL = java.util.regex.Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:.*");
    /** Settings that are switches: {@code --agree-tos} alone means true. */
    private static final Set<String> SWITCHES = Set.of("agree-tos", "profile-required");

    private SettingsOptions() {
    }

    /** Adds an option per setting to {@code spec}. */
    static void addTo(CommandSpec spec) {
        for (String name : AutocertSettings.NAMES) {
            if (spec.findOption("--" + name) != null) {
                continue; // the verb's own option for the setting (HookOptions' --deploy-hook), read by settings() all the same
            }
            String[] names = switch (name) {
                case "domains" -> new String[] {"-d", "--domains"};
                case "email" -> new String[] {"-m", "--email"};
                default -> new String[] {"--" + name};
            };
            OptionSpec.Builder option = OptionSpec.builder(names).paramLabel(SWITCHES.contains(name) ? "true|false" : label(name))
                    .description("autocert." + name + (name.equals("domains")
                            ? ": names of one certificate, separated by commas; repeat -d for more names of it" : ""))
                    .type(name.equals("domains") ? String[].class : String.class);
            if (SWITCHES.contains(name)) {
                option.arity("0..1").fallbackValue("true");
            }
            spec.addOption(option.build());
        }
    }

    private static String label(String name) {
        return switch (name) {
            case "domains" -> "NAMES";
            case "storage", "ca-trust", "dns-credentials" -> "PATH";
            case "email" -> "ADDRESS";
            default -> "VALUE";
        };
    }

    /**
     * The settings: {@code configFiles} in order, then the options given.
     *
     * @param requireDomains false for verbs that work on storage alone and need no certificate
     * @throws InvalidSettingException naming the setting at fault
     */
    static AutocertSettings settings(CommandSpec spec, List<Path> configFiles, boolean requireDomains) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Path file : configFiles) {
            values.putAll(read(file));
        }
        for (String name : AutocertSettings.NAMES) {
            OptionSpec option = spec.findOption("--" + name);
            if (option == null || !spec.commandLine().getParseResult().hasMatchedOption(option)) {
                continue;
            }
            Object value = option.getValue();
            String text = value instanceof String[] many ? String.join(",", many) : String.valueOf(value);
            values.put(AutocertSettings.PREFIX + name, PATHS.contains(name) && !text.isBlank() && !URL.matcher(text).matches()
                    ? Path.of(text).toAbsolutePath().normalize().toString() : text);
        }
        AutocertSettings.Builder builder = AutocertSettings.builder().properties(values);
        return requireDomains ? builder.build() : builder.buildWithoutCertificates();
    }

    /** The {@code autocert.*} entries of {@code file}, with relative paths resolved as its server would. */
    static Map<String, String> read(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new InvalidSettingException("--config", "'" + file + "' cannot be read (" + e.getClass().getSimpleName()
                    + (e.getMessage() != null ? ": " + e.getMessage() : "") + "); check the path");
        }
        Path absolute = file.toAbsolutePath().normalize();
        boolean jettyIni = absolute.getParent() != null && absolute.getParent().getFileName() != null
                && absolute.getParent().getFileName().toString().equals("start.d");
        Path base = jettyIni ? absolute.getParent().getParent() : absolute.getParent();
        Map<String, String> values = new LinkedHashMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (!key.startsWith(AutocertSettings.PREFIX)) {
                continue;
            }
            String value = properties.getProperty(key).trim();
            String name = key.substring(AutocertSettings.PREFIX.length());
            if (PATHS.contains(name) && !value.isEmpty() && !URL.matcher(value).matches() && !Path.of(value).isAbsolute()) {
                value = base.resolve(value).normalize().toString();
            }
            values.put(key, value);
        }
        if (jettyIni && !values.containsKey(AutocertSettings.PREFIX + "storage")) {
            values.put(AutocertSettings.PREFIX + "storage", base.resolve("autocert").toString()); // the jetty module's default
        }
        return values;
    }
}
