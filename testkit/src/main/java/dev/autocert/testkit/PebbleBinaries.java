package dev.autocert.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Locates the {@code pebble} and {@code pebble-challtestsrv} executables.
 *
 * <p>{@code pebble} is taken from, in order: an explicit path given to the builder, the system
 * property {@value #PEBBLE_PROPERTY}, {@code /usr/bin/pebble}, then the directories of
 * {@code PATH}. {@code pebble-challtestsrv} is looked for next to {@code pebble} first, then the
 * same way. An explicit path (builder or property) that does not exist is an error; there is no
 * fallback, so that a typo does not silently run another Pebble.
 *
 * @param pebble the Pebble ACME server
 * @param challengeTestServer the mock DNS server that ships with Pebble
 */
record PebbleBinaries(Path pebble, Path challengeTestServer) {

    /** System property naming the {@code pebble} executable to use. */
    static final String PEBBLE_PROPERTY = "autocert.testkit.pebble";

    /** The command that installs both programs on Debian and Ubuntu. */
    static final String INSTALL_COMMAND = "sudo apt-get install -y pebble";

    private static final String PEBBLE = "pebble";
    private static final String CHALLENGE_TEST_SERVER = "pebble-challtestsrv";
    private static final Path DEBIAN_DIRECTORY = Path.of("/usr/bin");

    /**
     * Finds both programs.
     *
     * @param explicitPebble the {@code pebble} path set on the builder, or null
     * @return the programs
     * @throws IllegalStateException if one is missing; the message says how to install it
     */
    static PebbleBinaries locate(Path explicitPebble) {
        Path pebble = explicitPebble;
        if (pebble == null) {
            String property = System.getProperty(PEBBLE_PROPERTY);
            if (property != null && !property.isBlank()) {
                pebble = Path.of(property);
            }
        }
        if (pebble != null) {
            requireExecutable(pebble, PEBBLE);
        } else {
            pebble = search(PEBBLE, null).orElseThrow(() -> missing(PEBBLE, searchPath(null)));
        }
        Path siblingDirectory = pebble.toAbsolutePath().getParent();
        Path challengeTestServer = search(CHALLENGE_TEST_SERVER, siblingDirectory)
                .orElseThrow(() -> missing(CHALLENGE_TEST_SERVER, searchPath(siblingDirectory)));
        return new PebbleBinaries(pebble, challengeTestServer);
    }

    private static void requireExecutable(Path file, String program) {
        if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
            throw new IllegalStateException(program + " not found: " + file + " is not an executable file. "
                    + installHint());
        }
    }

    private static Optional<Path> search(String program, Path firstDirectory) {
        return searchPath(firstDirectory).stream()
                .map(directory -> directory.resolve(program))
                .filter(file -> Files.isRegularFile(file) && Files.isExecutable(file))
                .findFirst();
    }

    private static List<Path> searchPath(Path firstDirectory) {
        Set<Path> directories = new LinkedHashSet<>();
        if (firstDirectory != null) {
            directories.add(firstDirectory);
        }
        directories.add(DEBIAN_DIRECTORY);
        String path = System.getenv("PATH");
        if (path != null) {
            for (String entry : path.split(File.pathSeparator)) {
                if (!entry.isEmpty()) {
                    directories.add(Path.of(entry));
                }
            }
        }
        return List.copyOf(directories);
    }

    private static IllegalStateException missing(String program, List<Path> searched) {
        return new IllegalStateException(program + " not found (searched " + searched + "). " + installHint());
    }

    private static String installHint() {
        return "The Autocert test kit runs Pebble, Let's Encrypt's test CA. Install it with: "
                + INSTALL_COMMAND + " (Debian/Ubuntu; it provides /usr/bin/pebble and /usr/bin/pebble-challtestsrv),"
                + " or set the system property " + PEBBLE_PROPERTY + " to the pebble executable.";
    }
}
