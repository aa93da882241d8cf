package dev.autocert.cli;

import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertbotHooks;
import dev.autocert.core.HookRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Certbot's hooks on the verbs that obtain certificates ({@code certonly}, {@code renew}):
 * {@code --pre-hook} and {@code --post-hook} once around a run that orders, {@code --deploy-hook}
 * once per new certificate, and the executables in the storage's {@code renewal-hooks/pre},
 * {@code post} and {@code deploy} directories, with Certbot's environment ({@code
 * RENEWED_LINEAGE}, {@code RENEWED_DOMAINS}). A hook that fails or hangs is reported with its
 * exit code and output and bounded by a timeout; it never stops the other certificates. Not run
 * with {@code --dry-run}, except pre and post hooks, as Certbot.
 *
 * <p>How a verb uses it, as Certbot's {@code renew} does:
 * <ul>
 * <li>{@link #pre} before each order: only the first call of a run runs the pre hooks;</li>
 * <li>{@link #deploy} after each certificate stored (it also notes the names for the post hooks'
 *     {@code RENEWED_DOMAINS}; under {@code --dry-run} it runs nothing and says so);</li>
 * <li>{@link #failed} after each certificate that could not be obtained ({@code FAILED_DOMAINS});</li>
 * <li>{@link #post} once at the end, also after failures: it runs the post hooks only when
 *     {@code pre} was called, so a run that ordered nothing runs no hook.</li>
 * </ul>
 * The engine such a verb builds must not run {@code autocert.deploy-hook} itself: build it with
 * {@code CertificateManager.builder(settings).runsDeployHook(false)}, since {@link #deploy} runs
 * it (from {@code --deploy-hook}, or from a {@code --config} file), in order with the others.
 *
 * <p>Failing hooks never change the verb's exit code, as with Certbot: the certificate was
 * stored and stays; the failure is printed on standard error with the hook, its exit code and
 * its last output. Directory hooks run only for {@code renew}, as Certbot runs them. Thread-safe:
 * each method waits for a hook another thread is running.
 */
final class HookOptions {

    /** How long one hook may run, unless {@code --hook-timeout} says otherwise. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    /** The storage's directory of Certbot's directory hooks: {@code renewal-hooks/pre}, {@code deploy}, {@code post}. */
    static final String DIRECTORY = "renewal-hooks";

    /** The verb this is mixed into: its name, {@code --dry-run} and settings. Null in unit tests. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The hooks' commands as given, or null. */
    String preHook;
    String postHook;
    String deployHook;

    @Option(names = "--no-directory-hooks", order = 33, description = "Do not run the executables in STORAGE/renewal-hooks/.")
    boolean noDirectoryHooks;

    @Option(names = "--hook-timeout", paramLabel = "DURATION", order = 34, converter = DurationConverter.class,
            description = "How long each hook may run before it and what it started are killed: 90s, 5m, 1h (default: 5m).")
    Duration timeout = DEFAULT_TIMEOUT;

    // The state of one run; guarded by this.
    private boolean preDone;
    private boolean postDone;
    private final List<String> renewedDomains = new ArrayList<>();
    private final List<String> failedDomains = new ArrayList<>();
    private final Set<Path> warned = new HashSet<>();

    @Option(names = "--pre-hook", paramLabel = "COMMAND", order = 30,
            description = "Shell command run once before the first order of this run.")
    void preHook(String command) {
        this.preHook = checked("--pre-hook", command);
    }

    @Option(names = "--deploy-hook", paramLabel = "COMMAND", order = 31,
            description = "Shell command run for each new certificate, with RENEWED_LINEAGE and RENEWED_DOMAINS "
                    + "(autocert.deploy-hook; the servers run the same setting after their own renewals).")
    void deployHook(String command) {
        this.deployHook = checked("--deploy-hook", command);
    }

    /** Certbot's old name of {@code --deploy-hook}, still in scripts. */
    @Option(names = "--renew-hook", paramLabel = "COMMAND", hidden = true)
    void renewHook(String command) {
        this.deployHook = checked("--renew-hook", command);
    }

    @Option(names = "--post-hook", paramLabel = "COMMAND", order = 32,
            description = "Shell command run once after the last order of this run, with RENEWED_DOMAINS and FAILED_DOMAINS.")
    void postHook(String command) {
        this.postHook = checked("--post-hook", command);
    }

    /** Runs the pre hooks, before the first order of a run; later calls in the run do nothing. */
    synchronized void pre(Path storage, Console console) {
        if (preDone) {
            return;
        }
        preDone = true;
        for (Hook hook : hooks("pre", storage, preHook, "--pre-hook", console)) {
            run(hook, "the pre hook", Map.of(), "; ordering all the same", console);
        }
    }

    /**
     * Runs the deploy hooks for one new certificate: the executables in {@code renewal-hooks/deploy}
     * (for {@code renew}), then {@code --deploy-hook} or {@code autocert.deploy-hook}; under
     * {@code --dry-run}, none.
     *
     * @param lineage the certificate's {@code live/NAME} directory ({@code RENEWED_LINEAGE})
     * @param domains its names ({@code RENEWED_DOMAINS}, separated by spaces)
     */
    synchronized void deploy(Path storage, Path lineage, List<String> domains, Console console) {
        renewedDomains.addAll(domains);
        String name = lineage.getFileName() != null ? lineage.getFileName().toString() : String.join(",", domains);
        String[] command = deployCommand();
        List<Hook> hooks = hooks("deploy", storage, command[0], command[1], console);
        if (dryRun()) {
            hooks.forEach(h -> console.println("Dry run: " + h.label() + " was not run for " + name));
            return;
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RENEWED_LINEAGE", lineage.isAbsolute() ? lineage.normalize().toString() : lineage.toString());
        env.put("RENEWED_DOMAINS", String.join(" ", domains));
        for (Hook hook : hooks) {
            run(hook, "the deploy hook for " + name, env, "; the certificate is stored all the same", console);
        }
    }

    /** Notes a certificate that could not be obtained in this run, for the post hooks' {@code FAILED_DOMAINS}. */
    synchronized void failed(List<String> domains) {
        failedDomains.addAll(domains);
    }

    /**
     * Runs the post hooks, after the last order of a run, with {@code RENEWED_DOMAINS} and {@code
     * FAILED_DOMAINS} (as Certbot 5): only when {@link #pre} was called, and once.
     */
    synchronized void post(Path storage, Console console) {
        if (!preDone || postDone) {
            return;
        }
        postDone = true;
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RENEWED_DOMAINS", String.join(" ", renewedDomains));
        env.put("FAILED_DOMAINS", String.join(" ", failedDomains));
        for (Hook hook : hooks("post", storage, postHook, "--post-hook", console)) {
            run(hook, "the post hook", env, "", console);
        }
    }

    /** One hook to run: the program and its arguments, and how messages name it. */
    record Hook(String label, List<String> command) {
    }

    /**
     * The hooks of {@code kind}: the executables of {@code renewal-hooks/KIND} in the byte order of
     * their names (for {@code renew}, unless {@code --no-directory-hooks}), then {@code command},
     * unless it is just the path of one of them (as Certbot, which does not run it twice).
     */
    List<Hook> hooks(String kind, Path storage, String command, String label, Console console) {
        List<Hook> result = new ArrayList<>();
        List<Path> directoryHooks = directoryHooksApply() && storage != null ? executables(storage.resolve(DIRECTORY).resolve(kind), console) : List.of();
        directoryHooks.forEach(p -> result.add(new Hook(p.toString(), List.of(p.toString()))));
        if (command != null && !isOneOf(command, directoryHooks)) {
            result.add(new Hook(label, List.of("/bin/sh", "-c", command)));
        }
        return result;
    }

    private List<Path> executables(Path directory, Console console) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<Path> result = new ArrayList<>();
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path file : entries.map(p -> p.toAbsolutePath().normalize()).toList()) {
                String fileName = file.getFileName().toString();
                if (fileName.endsWith("~") || Files.isDirectory(file)) {
                    continue; // an editor's backup (Certbot skips them too), or a directory
                }
                if (!Files.isExecutable(file)) {
                    if (warned.add(file)) { // once, not once per certificate
                        console.error("autocert: " + file + " is not executable and was skipped; run chmod +x " + file
                                + " to run it as a hook");
                    }
                    continue;
                }
                result.add(file);
            }
        } catch (IOException e) {
            console.error("autocert: cannot list the hooks in " + directory + " (" + e.getMessage() + "); none of them was run");
            return List.of();
        }
        // by the bytes of the names, not the locale, as Certbot orders them
        result.sort((a, b) -> Arrays.compareUnsigned(bytes(a), bytes(b)));
        return result;
    }

    private static byte[] bytes(Path file) {
        return file.getFileName().toString().getBytes(StandardCharsets.UTF_8);
    }

    private static boolean isOneOf(String command, List<Path> files) {
        String single = command.strip();
        if (single.isEmpty() || single.chars().anyMatch(Character::isWhitespace)) {
            return false;
        }
        try {
            Path path = Path.of(single).toAbsolutePath().normalize();
            return files.contains(path);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void run(Hook hook, String what, Map<String, String> environment, String consequence, Console console) {
        console.progress("Running " + hook.label() + " (" + what + ")");
        try {
            String output = new HookRunner(hook.label(), "--hook-timeout").run(what, hook.command(), environment, timeout);
            if (Logging.verbose() && !output.isBlank()) {
                console.error(hook.label() + " printed: " + output.strip());
            }
        } catch (AutocertException e) {
            console.error("autocert: " + e.getMessage() + consequence);
        }
    }

    /** The deploy hook's command and how to name it: {@code --deploy-hook}, else {@code autocert.deploy-hook} of the settings. */
    private String[] deployCommand() {
        if (deployHook != null) {
            return new String[] {deployHook, "--deploy-hook"};
        }
        if (mixee != null && mixee.userObject() instanceof SettingsCommand command) {
            String fromSettings = command.storageSettings().deployHook().orElse(null);
            if (fromSettings != null) {
                return new String[] {fromSettings, AutocertSettings.PREFIX + "deploy-hook"};
            }
        }
        return new String[] {null, null};
    }

    /** Directory hooks run for {@code renew} only, as Certbot runs them, and not with {@code --no-directory-hooks}. */
    private boolean directoryHooksApply() {
        return !noDirectoryHooks && (mixee == null || "renew".equals(mixee.name()));
    }

    private boolean dryRun() {
        OptionSpec option = mixee == null ? null : mixee.findOption("--dry-run");
        return option != null && Boolean.TRUE.equals(option.getValue());
    }

    /**
     * {@code command}, when its first word can be run: a path must name an executable file, as
     * Certbot checks before it starts (a bare name is left to the shell: it may be a builtin).
     */
    private String checked(String option, String command) {
        if (command == null || command.isBlank()) {
            return null;
        }
        String program = CertbotHooks.program(command);
        if (program != null) {
            HookRunner.problem(program, Map.of()).ifPresent(problem -> {
                if (mixee == null || mixee.commandLine() == null) {
                    throw new IllegalArgumentException(option + ": " + problem);
                }
                throw new CommandLine.ParameterException(mixee.commandLine(), option + ": " + problem);
            });
        }
        return command.strip();
    }

    /** {@code 90s}, {@code 5m}, {@code 1h}, plain seconds, or ISO-8601 ({@code PT30S}); above zero. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.strip().toLowerCase(Locale.ROOT);
            Duration d;
            try {
                if (v.matches("[0-9]+")) {
                    d = Duration.ofSeconds(Long.parseLong(v));
                } else if (v.startsWith("p")) {
                    d = Duration.parse(v.toUpperCase(Locale.ROOT));
                } else {
                    long amount = Long.parseLong(v.substring(0, v.length() - 1));
                    d = switch (v.charAt(v.length() - 1)) {
                        case 's' -> Duration.ofSeconds(amount);
                        case 'm' -> Duration.ofMinutes(amount);
                        case 'h' -> Duration.ofHours(amount);
                        default -> throw new NumberFormatException();
                    };
                }
            } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
                throw new CommandLine.TypeConversionException("expected a duration such as 90s, 5m or 1h but was '" + value + "'");
            }
            if (d.isZero() || d.isNegative()) {
                throw new CommandLine.TypeConversionException("must be above zero, like 30s or 5m, but was '" + value + "'");
            }
            return d;
        }
    }
}
