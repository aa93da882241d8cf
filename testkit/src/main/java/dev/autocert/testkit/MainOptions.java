package dev.autocert.testkit;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Parses the command line of {@link PebbleServer#main(String[])}.
 *
 * @param httpPort the HTTP-01 validation port, or 0 to pick a free one
 * @param validity the validity of issued certificates, or null for Pebble's default
 * @param stateFile where to write the properties file describing the running Pebble, or null
 * @param help whether usage help was asked for
 */
record MainOptions(int httpPort, Duration validity, Path stateFile, boolean help) {

    /** The usage text. */
    static final String USAGE = String.join(System.lineSeparator(),
            "Usage: java dev.autocert.testkit.PebbleServer [options]",
            "Runs Pebble, Let's Encrypt's test CA, on loopback until Ctrl-C.",
            "  --http-port N        port Pebble connects to when validating HTTP-01 (default: a free port)",
            "  --validity SECONDS   validity of issued certificates (default: Pebble's, about 5 years)",
            "  --state-file PATH    write a properties file with the keys directory, trust, httpPort and",
            "                       managementPort once Pebble runs (deleted when it stops)",
            "  --help               show this text");

    /**
     * Parses arguments.
     *
     * @param args the command line
     * @return the options
     * @throws IllegalArgumentException if an option is unknown, lacks its value or has a bad value
     */
    static MainOptions parse(String... args) {
        int httpPort = 0;
        Duration validity = null;
        Path stateFile = null;
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            switch (option) {
                case "--help", "-h" -> {
                    return new MainOptions(httpPort, validity, stateFile, true);
                }
                case "--http-port" -> httpPort = number(option, value(args, ++i, option), 1, 65535);
                case "--validity" -> validity = Duration.ofSeconds(number(option, value(args, ++i, option), 1,
                        Integer.MAX_VALUE));
                case "--state-file" -> stateFile = Path.of(value(args, ++i, option));
                default -> throw new IllegalArgumentException("Unknown option: " + option);
            }
        }
        return new MainOptions(httpPort, validity, stateFile, false);
    }

    /**
     * Applies the options to a builder.
     *
     * @param builder a new builder
     * @return {@code builder}
     */
    PebbleServer.Builder applyTo(PebbleServer.Builder builder) {
        if (httpPort != 0) {
            builder.httpPort(httpPort);
        }
        if (validity != null) {
            builder.certificateValidity(validity);
        }
        return builder;
    }

    private static String value(String[] args, int index, String option) {
        if (index >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[index];
    }

    private static int number(String option, String value, int min, int max) {
        try {
            int number = Integer.parseInt(value);
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException e) {
            // Reported below.
        }
        throw new IllegalArgumentException(option + " needs a number from " + min + " to " + max + ", not " + value);
    }
}
