package dev.autocert.cli;

import java.util.Arrays;

/**
 * The command's own logging: the engine's log lines go to standard error at WARN, at INFO with
 * {@code -v} and DEBUG with {@code -vv}; what the command has to say it prints itself.
 */
final class Logging {

    private static boolean verbose;

    private Logging() {
    }

    static void configure(String[] args) {
        long v = Arrays.stream(args).filter(a -> a.matches("-v+|--verbose")).mapToLong(a -> a.equals("--verbose") ? 1 : a.length() - 1).sum();
        verbose = v > 0;
        String level = v >= 2 ? "debug" : v == 1 ? "info" : "warn";
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", level));
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showLogName", "false");
        System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "true");
    }

    static boolean verbose() {
        return verbose;
    }
}
