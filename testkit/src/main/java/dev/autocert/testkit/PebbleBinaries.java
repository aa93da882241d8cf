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
 * @param current whether these are Pebble 2.10 or later, whose mock DNS server takes other flags
 */
record PebbleBinaries(Path pebble, Path challengeTestServer, boolean current) {

    /** System property naming the {@code pebble} executable to use. */
    static final String PEBBLE_PROPERTY = "autocert.testkit.pebble";

    /** The command that installs both programs on Debian and Ubuntu. */
    static final String INSTALL_COMMAND = "sudo apt-get install -y pebble";

    /** System property naming the {@code pebble} 2.10 (or later) executable, for ARI and profiles. */
    static final String CURRENT_PROPERTY = "autocert.testkit.pebble-current";

    /** The command, in an Autocert checkout, that fetches Pebble 2.10 into {@link #currentCacheDirectory()}. */
    static final String FETCH_CURRENT_COMMAND = "scripts/fetch-pebble";

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
        return new PebbleBinaries(pebble, challengeTestServer, false);
    }

    /**
     * Finds Pebble 2.10 or later (ARI, profiles, Retry-After settings): the system property
     * {@value #CURRENT_PROPERTY}, else {@code pebble} in {@link #currentCacheDirectory()}, where
     * {@code scripts/fetch-pebble} puts Debian sid's package.
     *
     * @throws IllegalStateException when it is missing; the message gives the commands that fetch it
     */
    static PebbleBinaries locateCurrent() {
        String property = System.getProperty(CURRENT_PROPERTY);
        Path pebble = property != null && !property.isBlank() ? Path.of(property)
                : currentCacheDirectory().resolve(PEBBLE);
        if (!Files.isRegularFile(pebble) || !Files.isExecutable(pebble)) {
            throw new IllegalStateException("Pebble 2.10 not found: " + pebble + " is not an executable file. "
                    + "This test needs a Pebble with ARI and profiles, which Debian bookworm's 2.4 lacks. "
                    + "Fetch Debian sid's package with: " + FETCH_CURRENT_COMMAND + " (in the Autocert repository; "
                    + "docs/testing.md shows the same steps by hand), or set the system property "
                    + CURRENT_PROPERTY + " to a pebble 2.10 executable.");
        }
        Path challengeTestServer = pebble.toAbsolutePath().getParent().resolve(CHALLENGE_TEST_SERVER);
        if (!Files.isExecutable(challengeTestServer)) {
            challengeTestServer = search(CHALLENGE_TEST_SERVER, null)
                    .orElseThrow(() -> missing(CHALLENGE_TEST_SERVER, searchPath(null)));
        }
        return new PebbleBinaries(pebble, challengeTestServer, true);
    }

    /** Where {@code scripts/fetch-pebble} keeps Pebble 2.10: {@code $AUTOCERT_CACHE/pebble-2.10}, by default under {@code ~/.cache/autocert}. */
    static Path currentCacheDirectory() {
        String cache = System.getenv("AUTOCERT_CACHE");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache", "autocert");
        return base.resolve("pebble-2.10");
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
