package dev.autocert.cli;

import java.io.Console;
import java.util.Locale;

/**
 * A yes-or-no question for a person at a terminal, asked before a verb destroys something
 * ({@code delete}, {@code revoke}). Verbs never ask when there is no terminal to answer on: they
 * take {@code -n} ({@code --non-interactive}) or an explicit option instead.
 */
final class Prompt {

    private Prompt() {
    }

    /** Whether a person can answer: standard input and output are a terminal. */
    static boolean available() {
        return System.console() != null;
    }

    /**
     * Asks {@code question} and returns the answer: {@code y}/{@code yes} or {@code n}/{@code no},
     * {@code defaultAnswer} on an empty line, no at the end of input.
     */
    static boolean ask(String question, boolean defaultAnswer) {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        while (true) {
            String line = console.readLine("%s [%s] ", question, defaultAnswer ? "Y/n" : "y/N");
            if (line == null) {
                return false;
            }
            switch (line.trim().toLowerCase(Locale.ROOT)) {
                case "" -> {
                    return defaultAnswer;
                }
                case "y", "yes" -> {
                    return true;
                }
                case "n", "no" -> {
                    return false;
                }
                default -> console.printf("Answer y or n.%n");
            }
        }
    }
}
