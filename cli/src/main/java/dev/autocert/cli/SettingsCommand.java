package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A verb that works on settings and storage: it takes {@code --config FILE} and an option per
 * {@code autocert.*} setting (added by {@link SettingsOptions}), and {@code --quiet} / {@code -v}.
 */
abstract class SettingsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", order = 1,
            description = "Settings file: a .properties file, Jetty's start.d/autocert.ini or Spring Boot's application.properties "
                    + "(autocert.* keys; others are ignored). Repeatable; options on the command line win.")
    List<Path> configFiles = new ArrayList<>();

    @Option(names = {"-q", "--quiet"}, order = 2, description = "Print nothing but errors.")
    boolean quiet;

    @Option(names = {"-v", "--verbose"}, order = 3, description = "Show the engine's log: -v INFO, -vv DEBUG.")
    boolean[] verbose = new boolean[0];

    /** The settings from the config files and the command line, checked by core. */
    AutocertSettings settings() {
        return SettingsOptions.settings(spec, configFiles, true);
    }

    /** The settings as {@link #settings()}, but with no certificate required (verbs on storage alone). */
    AutocertSettings storageSettings() {
        return SettingsOptions.settings(spec, configFiles, false);
    }

    Console console() {
        return new Console(spec.commandLine().getOut(), spec.commandLine().getErr(), quiet);
    }
}
