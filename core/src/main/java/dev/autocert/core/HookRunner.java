package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a user's program (a lego exec program, a Certbot hook, a deploy hook) and waits for it: with extra
 * environment variables, no standard input, and a time limit after which it and every process it
 * started are killed. A non-zero exit is an {@link AutocertException} with the exit code and the
 * last lines the program printed; its arguments are left out of every message, as they may carry
 * a key authorization.
 *
 * <p>Hooks often print what they were given ({@code set -x}, {@code curl -v} printing an {@code
 * Authorization} header, {@code echo $CERTBOT_VALIDATION}), so the quoted lines have every secret
 * replaced by {@code [redacted]} first: the values given as secrets, and the value of every
 * variable of the program's environment whose name holds {@code TOKEN}, {@code KEY}, {@code
 * SECRET}, {@code PASSWORD}, {@code PASSWD}, {@code CREDENTIAL} or {@code AUTH}, or is Certbot's
 * {@code CERTBOT_VALIDATION} (but not one ending in {@code _PATH}, {@code _FILE}, {@code _DIR}
 * or {@code _SOCK}, which names where a secret is). Values shorter than {@value #MIN_SECRET_LENGTH} characters are
 * left, as they would blank out ordinary words. The output as printed is logged at DEBUG only.
 * Immutable and thread-safe. For Autocert's own modules (DNS-01, the command line), not a stable API.
 */
public final class HookRunner {

    private static final Logger LOG = LoggerFactory.getLogger(HookRunner.class);

    /** Lines of the program's output quoted in a failure, and how long each may be. */
    private static final int FAILURE_LINES = 10;
    private static final int FAILURE_LINE_LENGTH = 200;
    /** Environment variables whose values are secrets, by name. */
    private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH).*|CERTBOT_VALIDATION");
    /** ... unless they name where a secret is kept, which a failure may well need to show. */
    private static final Pattern LOCATION_NAME = Pattern.compile("(?i).*_(PATH|FILE|DIR|SOCK)");
    /** Shorter values are not redacted: "true" or "80" would blank out ordinary words. */
    static final int MIN_SECRET_LENGTH = 6;
    private static final String REDACTED = "[redacted]";
    /** What is kept of the standard output: Certbot hands it to the cleanup hook in an environment variable. */
    private static final int MAX_OUTPUT = 64 * 1024;
    /** How long to wait for the pipes to drain after the program ended or was killed. */
    private static final Duration DRAIN = Duration.ofSeconds(5);

    private final String prefix;
    private final String timeoutSetting;
    private final List<String> secrets;

    /**
     * @param prefix         what runs the program, opening every message: {@code "DNS-01 through exec"}
     * @param timeoutSetting the setting that raises the time limit, for messages
     */
    public HookRunner(String prefix, String timeoutSetting) {
        this(prefix, timeoutSetting, List.of());
    }

    /**
     * As {@link #HookRunner(String, String)}, with values never to quote from any run's output,
     * such as the values of a credentials file.
     */
    public HookRunner(String prefix, String timeoutSetting, Collection<String> secrets) {
        this.prefix = requireNonNull(prefix, "prefix");
        this.timeoutSetting = requireNonNull(timeoutSetting, "timeoutSetting");
        this.secrets = secrets.stream().filter(v -> v != null).toList();
    }

    /**
     * Runs {@code command} and returns what it wrote to standard output.
     *
     * @param what        what the run does, for messages: {@code "the auth hook for example.com"}
     * @param command     the program and its arguments
     * @param environment variables added to this process's environment; a null value removes one
     * @param timeout     how long it may run before it is killed
     * @throws AutocertException when it cannot start, exits non-zero or runs out of time
     */
    public String run(String what, List<String> command, Map<String, String> environment, Duration timeout) throws AutocertException {
        return run(what, command, environment, timeout, List.of());
    }

    /**
     * As {@link #run(String, List, Map, Duration)}, with values of this run never to quote from
     * its output, such as a token and key authorization passed as arguments.
     */
    public String run(String what, List<String> command, Map<String, String> environment, Duration timeout, Collection<String> secrets)
            throws AutocertException {
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        environment.forEach((name, value) -> {
            if (value == null) {
                env.remove(name);
            } else {
                env.put(name, value);
            }
        });
        List<String> redacted = redactions(env, secrets);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AutocertException(prefix + ": " + what + " cannot be started: " + e.getMessage());
        }
        try {
            process.getOutputStream().close(); // nothing to read: a hook that prompts gets end of file, not a hang
        } catch (IOException e) {
            // it may have ended already
        }
        Capture stdout = new Capture(process.getInputStream());
        Capture stderr = new Capture(process.getErrorStream());
        boolean ended;
        try {
            ended = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new AutocertException(prefix + ": " + what + " was interrupted; the program was stopped");
        }
        if (!ended) {
            kill(process);
            stdout.await();
            stderr.await();
            throw new AutocertException(prefix + ": " + what + " did not finish within " + timeout.toSeconds()
                    + " s and was killed" + lastLines(what, stdout, stderr, redacted) + "; make it finish sooner or raise " + timeoutSetting);
        }
        stdout.await();
        stderr.await();
        int exit = process.exitValue();
        if (exit != 0) {
            String hint = switch (exit) {
                case 126 -> "; the shell found the command but may not run it: check that it is executable (chmod +x)";
                case 127 -> "; the shell did not find the command: check its path";
                default -> "";
            };
            throw new AutocertException(prefix + ": " + what + " failed with exit code " + exit
                    + lastLines(what, stdout, stderr, redacted) + hint);
        }
        return stdout.text();
    }

    /** Kills the program and what it started: a shell script's {@code sleep} would otherwise hold the pipes open. */
    private static void kill(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList(); // before the parent dies and they are re-parented
        process.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
    }

    /**
     * The values to cut out of a run's output: this runner's and this run's secrets, and the
     * environment's values whose names say they are secret; each also line by line, longest first.
     */
    private List<String> redactions(Map<String, String> environment, Collection<String> runSecrets) {
        Set<String> values = new LinkedHashSet<>();
        List<String> all = new ArrayList<>(this.secrets);
        runSecrets.stream().filter(v -> v != null).forEach(all::add);
        environment.forEach((name, value) -> {
            if (value != null && SECRET_NAME.matcher(name).matches() && !LOCATION_NAME.matcher(name).matches()) {
                all.add(value);
            }
        });
        for (String value : all) {
            values.add(value.strip());
            value.lines().map(String::strip).forEach(values::add); // CERTBOT_AUTH_OUTPUT may span lines
        }
        return values.stream().filter(v -> v.length() >= MIN_SECRET_LENGTH)
                .sorted(Comparator.comparingInt(String::length).reversed()).toList();
    }

    /** {@code text} with each of {@code secrets} replaced by {@value #REDACTED}. */
    static String redact(String text, List<String> secrets) {
        String result = text;
        for (String secret : secrets) {
            result = result.replace(secret, REDACTED);
        }
        return result;
    }

    private String lastLines(String what, Capture stdout, Capture stderr, List<String> secrets) {
        List<String> lines = new ArrayList<>();
        for (Capture c : List.of(stdout, stderr)) { // errors last: they are usually on stderr
            Arrays.stream(c.text().split("\\R")).filter(l -> !l.isBlank()).forEach(lines::add);
        }
        if (lines.isEmpty()) {
            return " and printed nothing";
        }
        List<String> last = lines.subList(Math.max(0, lines.size() - FAILURE_LINES), lines.size());
        LOG.debug("{}: {} printed, unredacted: {}", prefix, what, String.join(" | ", last));
        // redacted before it is cut: a secret across the cut would otherwise survive in part
        List<String> quoted = last.stream().map(l -> redact(l, secrets))
                .map(l -> l.length() > FAILURE_LINE_LENGTH ? l.substring(0, FAILURE_LINE_LENGTH) + "…" : l).toList();
        return "; its last output: " + String.join(" | ", quoted);
    }

    /**
     * Checks that {@code program} can be run: a path to an executable file, or a bare name found
     * on the {@code PATH}. {@return a description of the problem and its fix, or empty when it can be run}
     */
    public static Optional<String> problem(String program, Map<String, String> environment) {
        if (!program.contains("/") && !program.contains("\\")) {
            String path = environment.getOrDefault("PATH", System.getenv("PATH"));
            if (path != null) {
                for (String dir : path.split(java.io.File.pathSeparator)) {
                    if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program)) && Files.isRegularFile(Path.of(dir, program))) {
                        return Optional.empty();
                    }
                }
            }
            return Optional.of("'" + program + "' is not found on the PATH; give its absolute path, such as /usr/local/bin/" + program);
        }
        Path file = Path.of(program);
        if (!Files.exists(file)) {
            return Optional.of("'" + program + "' does not exist; check the path (an absolute one is safest: the server's "
                    + "working directory is " + Path.of("").toAbsolutePath() + ")");
        }
        if (!Files.isRegularFile(file)) {
            return Optional.of("'" + program + "' is not a file; name the program itself");
        }
        if (!Files.isExecutable(file)) {
            return Optional.of("'" + program + "' is not executable by this server's user; run chmod +x " + program
                    + (program.endsWith(".sh") ? " (and give it a #!/bin/sh line)" : ""));
        }
        return Optional.empty();
    }

    /** Reads one of the program's streams on its own thread, keeping the first {@link #MAX_OUTPUT} bytes. */
    private static final class Capture {

        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        Capture(InputStream in) {
            thread = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try (in) {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        synchronized (bytes) {
                            int keep = Math.min(n, MAX_OUTPUT - bytes.size());
                            if (keep > 0) {
                                bytes.write(buffer, 0, keep);
                            }
                        }
                    }
                } catch (IOException e) {
                    // the program was killed, or closed its end: what was read is kept
                }
            }, "autocert-hook-output");
            thread.setDaemon(true);
            thread.start();
        }

        void await() {
            try {
                thread.join(DRAIN.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
