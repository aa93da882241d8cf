package dev.autocert.cli;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.ChallengeData;
import dev.autocert.core.ChallengeSolver;
import dev.autocert.core.ChallengeType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Certbot's webroot authenticator: answers HTTP-01 through the web server that already serves
 * {@code http://DOMAIN/} from a directory, by writing each challenge's key authorization to
 * {@code WEBROOT/.well-known/acme-challenge/TOKEN} (readable by everyone, as the web server must
 * read it) and removing it, and the directories it had to create, once the challenge is done.
 * Thread-safe.
 */
final class WebrootSolver implements ChallengeSolver {

    /** RFC 8555 tokens are base64url; anything else could name another path. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,256}");

    private final Path webroot;
    private final Path challengeDirectory;
    private final Console console;
    /** The directories this solver created, outermost first, removed when the last challenge is cleaned up. */
    private final Deque<Path> created = new ArrayDeque<>();
    private final Set<String> outstanding = new HashSet<>();

    WebrootSolver(Path webroot, Console console) {
        this.webroot = requireNonNull(webroot, "webroot").toAbsolutePath().normalize();
        this.challengeDirectory = this.webroot.resolve(".well-known").resolve("acme-challenge");
        this.console = requireNonNull(console, "console");
    }

    @Override
    public ChallengeType type() {
        return ChallengeType.HTTP_01;
    }

    @Override
    public synchronized void present(ChallengeData challenge) throws AutocertException {
        if (!TOKEN.matcher(challenge.token()).matches()) {
            throw new AutocertException("The CA sent an http-01 token that is not base64url; nothing was written under " + webroot);
        }
        Path file = challengeDirectory.resolve(challenge.token());
        try {
            createDirectories();
            Files.write(file, challenge.keyAuthorization().getBytes(StandardCharsets.US_ASCII));
            if (posix()) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            }
        } catch (IOException e) {
            throw new AutocertException("--webroot: cannot write the http-01 challenge for " + challenge.domain() + " to " + file
                    + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + "); the directory must be writable by this user", e);
        }
        outstanding.add(challenge.token());
        console.progress("Wrote the http-01 challenge for " + challenge.domain() + " to " + file);
    }

    @Override
    public synchronized void cleanUp(ChallengeData challenge) throws AutocertException {
        if (!TOKEN.matcher(challenge.token()).matches()) {
            return;
        }
        try {
            Files.deleteIfExists(challengeDirectory.resolve(challenge.token()));
            outstanding.remove(challenge.token());
            if (outstanding.isEmpty()) {
                while (!created.isEmpty()) {
                    Path dir = created.removeLast();
                    try {
                        Files.delete(dir);
                    } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                        created.clear(); // someone else's files are there now: leave it
                    }
                }
            }
        } catch (IOException e) {
            throw new AutocertException("--webroot: cannot remove the http-01 challenge file for " + challenge.domain() + " from "
                    + challengeDirectory + ": " + e.getMessage(), e);
        }
    }

    private void createDirectories() throws IOException {
        if (!Files.isDirectory(webroot)) {
            throw new NoSuchFileException(webroot.toString(), null, "the web root does not exist");
        }
        for (Path dir : new Path[] {webroot.resolve(".well-known"), challengeDirectory}) {
            if (!Files.isDirectory(dir)) {
                Files.createDirectory(dir);
                if (posix()) {
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
                created.addLast(dir);
            }
        }
    }

    private static boolean posix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }

    @Override
    public String toString() {
        return "http-01 through --webroot " + webroot;
    }
}
