package dev.autocert.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Finds and runs the short-lived helper programs of the DNS servers ({@code tsig-keygen},
 * {@code keymgr}, {@code sqlite3}, {@code kill}) and locates the servers themselves.
 *
 * <p>Programs are looked for in {@code /usr/sbin}, {@code /usr/bin}, then the directories of
 * {@code PATH}; a missing one is an error whose message gives the Debian package that provides
 * it. Tests are never skipped silently.
 */
final class Programs {

    private static final List<Path> SYSTEM_DIRECTORIES = List.of(Path.of("/usr/sbin"), Path.of("/usr/bin"), Path.of("/sbin"),
            Path.of("/bin"));

    /** How long a helper program may run. */
    private static final long RUN_TIMEOUT_SECONDS = 20;

    private Programs() {
    }

    /**
     * Finds an executable.
     *
     * @param program the file name, such as {@code named}
     * @param packages the Debian packages that provide it and its companions, such as {@code bind9 bind9-dnsutils}
     * @param purpose what the test kit runs it for, for the error message
     * @return the executable
     * @throws IllegalStateException if it is not installed; the message gives the install command
     */
    static Path require(String program, String packages, String purpose) {
        Set<Path> directories = new LinkedHashSet<>(SYSTEM_DIRECTORIES);
        String path = System.getenv("PATH");
        if (path != null) {
            for (String entry : path.split(File.pathSeparator)) {
                if (!entry.isEmpty()) {
                    directories.add(Path.of(entry));
                }
            }
        }
        for (Path directory : directories) {
            Path candidate = directory.resolve(program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(program + " not found (searched " + directories + "). The Autocert test kit runs "
                + purpose + ". Install it with: " + installCommand(packages) + " (Debian/Ubuntu)");
    }

    /**
     * Checks that a data file a program needs exists.
     *
     * @throws IllegalStateException if it does not; the message gives the install command
     */
    static Path requireFile(Path file, String packages, String purpose) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(file + " not found. The Autocert test kit needs it for " + purpose
                    + ". Install it with: " + installCommand(packages) + " (Debian/Ubuntu)");
        }
        return file;
    }

    /** {@return the command that installs {@code packages}} */
    static String installCommand(String packages) {
        return "sudo apt-get install -y " + packages;
    }

    /**
     * Runs a program to completion and returns its standard output.
     *
     * @param directory the working directory
     * @param input what to write to its standard input, or null for nothing
     * @param command the program and its arguments
     * @return standard output
     * @throws IllegalStateException if it cannot start, fails, or takes longer than 20 seconds;
     *     the message quotes its standard error, which must therefore never hold a secret
     */
    static String run(Path directory, String input, List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).directory(directory.toFile());
        Path errors = directory.resolve("." + Path.of(command.get(0)).getFileName() + ".stderr");
        builder.redirectError(errors.toFile());
        try {
            Process process = builder.start();
            try (var stdin = process.getOutputStream()) {
                if (input != null) {
                    stdin.write(input.getBytes(StandardCharsets.UTF_8));
                }
            }
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " did not finish within " + RUN_TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(command.get(0) + " failed with code " + process.exitValue() + ": "
                        + Files.readString(errors, StandardCharsets.UTF_8).strip());
            }
            return new String(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("Could not run " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running " + command.get(0), e);
        } finally {
            try {
                Files.deleteIfExists(errors);
            } catch (IOException e) {
                // Left in the working directory, which is deleted at stop.
            }
        }
    }
}
