package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@link HookOptions} as a verb uses it, parsed by picocli from real arguments into a verb like
 * {@code renew} and {@code certonly}, running real shell hooks that write what they saw into a log.
 */
class HookOptionsTest {

    @TempDir
    Path storage;

    private Path log;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final Console console = new Console(new PrintWriter(out, true), new PrintWriter(err, true), false);

    @BeforeEach
    void setUp() {
        log = storage.resolve("hooks.log");
    }

    /** A verb with the hooks, as certonly and renew have them. */
    abstract static class Verb extends SettingsCommand {
        @Mixin
        HookOptions hooks;

        @Option(names = "--dry-run")
        boolean dryRun;

        @Override
        public Integer call() {
            return 0;
        }
    }

    @Command(name = "renew")
    static final class Renew extends Verb {
    }

    @Command(name = "certonly")
    static final class Certonly extends Verb {
    }

    private static <V extends Verb> V parse(V verb, String... args) {
        CommandLine commandLine = new CommandLine(verb);
        SettingsOptions.addTo(commandLine.getCommandSpec());
        commandLine.parseArgs(args);
        return verb;
    }

    /** A shell command that appends {@code line} (expanded by the shell) to the log. */
    private String logs(String line) {
        return "echo \"" + line + "\" >> " + log;
    }

    private List<String> logged() throws IOException {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private Path directoryHook(String kind, String name, String line, boolean executable) throws IOException {
        Path dir = Files.createDirectories(storage.resolve("renewal-hooks").resolve(kind));
        Path file = dir.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + logs(line) + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
        return file;
    }

    /** What a run that renews {@code a.test} and {@code b.test} and fails {@code c.test} does. */
    private void run(HookOptions hooks) {
        hooks.pre(storage, console);
        hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test", "www.a.test"), console);
        hooks.pre(storage, console);
        hooks.deploy(storage, storage.resolve("live/b.test"), List.of("b.test"), console);
        hooks.failed(List.of("c.test"));
        hooks.post(storage, console);
        hooks.post(storage, console);
    }

    @Test
    void preOnceThenDeployPerCertificateWithCertbotsEnvironmentThenPostOnce() throws Exception {
        Renew renew = parse(new Renew(), "--pre-hook", logs("pre"),
                "--deploy-hook", logs("deploy $RENEWED_LINEAGE|$RENEWED_DOMAINS"),
                "--post-hook", logs("post $RENEWED_DOMAINS|$FAILED_DOMAINS"));

        run(renew.hooks);

        assertEquals(List.of("pre",
                "deploy " + storage.resolve("live/a.test") + "|a.test www.a.test",
                "deploy " + storage.resolve("live/b.test") + "|b.test",
                "post a.test www.a.test b.test|c.test"), logged());
        assertEquals("", err.toString());
    }

    @Test
    void aRunThatOrderedNothingRunsNoHook() throws Exception {
        Renew renew = parse(new Renew(), "--pre-hook", logs("pre"), "--post-hook", logs("post"));

        renew.hooks.post(storage, console);

        assertEquals(List.of(), logged());
    }

    @Test
    void directoryHooksRunInTheByteOrderOfTheirNamesBeforeTheCommandLinesHook() throws Exception {
        for (String kind : List.of("pre", "deploy", "post")) {
            for (String name : List.of("b", "B", "2-a", "10-b")) {
                directoryHook(kind, name, kind + " " + name + (kind.equals("deploy") ? " $RENEWED_DOMAINS" : ""), true);
            }
        }
        directoryHook("deploy", "not-executable", "never", false);
        directoryHook("deploy", "backup~", "never", true);
        Files.createDirectories(storage.resolve("renewal-hooks/deploy/a-directory"));
        Renew renew = parse(new Renew(), "--pre-hook", logs("pre hook"), "--deploy-hook", logs("deploy hook $RENEWED_DOMAINS"),
                "--post-hook", logs("post hook"));

        renew.hooks.pre(storage, console);
        renew.hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test"), console);
        renew.hooks.post(storage, console);

        assertEquals(List.of("pre 10-b", "pre 2-a", "pre B", "pre b", "pre hook",
                "deploy 10-b a.test", "deploy 2-a a.test", "deploy B a.test", "deploy b a.test", "deploy hook a.test",
                "post 10-b", "post 2-a", "post B", "post b", "post hook"), logged());
        String warning = storage.resolve("renewal-hooks/deploy/not-executable") + " is not executable and was skipped; run chmod +x";
        assertTrue(err.toString().contains(warning), err.toString());
    }

    @Test
    void aCommandLineHookThatIsOneOfTheDirectoryHooksRunsOnce() throws Exception {
        Path hook = directoryHook("deploy", "50-reload", "reload", true);
        Renew renew = parse(new Renew(), "--deploy-hook", hook.toString());

        renew.hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test"), console);

        assertEquals(List.of("reload"), logged());
    }

    @Test
    void noDirectoryHooksRunsOnlyTheCommandLinesHooks() throws Exception {
        directoryHook("pre", "10", "pre dir", true);
        directoryHook("deploy", "10", "deploy dir", true);
        Renew renew = parse(new Renew(), "--no-directory-hooks", "--pre-hook", logs("pre"), "--deploy-hook", logs("deploy"));

        renew.hooks.pre(storage, console);
        renew.hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test"), console);

        assertEquals(List.of("pre", "deploy"), logged());
    }

    @Test
    void directoryHooksAreRenewsOnlyAsCertbotRunsThem() throws Exception {
        directoryHook("pre", "10", "pre dir", true);
        directoryHook("deploy", "10", "deploy dir", true);
        Certonly certonly = parse(new Certonly(), "--pre-hook", logs("pre"), "--deploy-hook", logs("deploy"));

        certonly.hooks.pre(storage, console);
        certonly.hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test"), console);

        assertEquals(List.of("pre", "deploy"), logged());
    }

    @Test
    void aDryRunRunsPreAndPostHooksButNoDeployHook() throws Exception {
        directoryHook("deploy", "10-reload", "deploy dir", true);
        Renew renew = parse(new Renew(), "--dry-run", "--pre-hook", logs("pre"), "--deploy-hook", logs("deploy"),
                "--post-hook", logs("post $RENEWED_DOMAINS"));

        run(renew.hooks);

        assertEquals(List.of("pre", "post a.test www.a.test b.test"), logged());
        assertTrue(out.toString().contains("Dry run: --deploy-hook was not run for a.test"), out.toString());
        assertTrue(out.toString().contains("Dry run: " + storage.resolve("renewal-hooks/deploy/10-reload") + " was not run for b.test"),
                out.toString());
    }

    @Test
    void aFailingHookIsReportedWithItsExitCodeAndOutputAndTheOthersStillRun() throws Exception {
        directoryHook("deploy", "10-ok", "deploy 10", true);
        Path failing = storage.resolve("renewal-hooks/deploy/20-fails");
        Files.writeString(failing, "#!/bin/sh\necho 'reloading nginx'\necho 'nginx: [emerg] cannot load certificate' >&2\nexit 3\n");
        Files.setPosixFilePermissions(failing, PosixFilePermissions.fromString("rwx------"));
        Renew renew = parse(new Renew(), "--deploy-hook", logs("deploy $RENEWED_DOMAINS"), "--post-hook", "exit 4; " + logs("never"));

        run(renew.hooks);

        assertEquals(List.of("deploy 10", "deploy a.test www.a.test", "deploy 10", "deploy b.test"), logged());
        String errors = err.toString();
        assertTrue(errors.contains("autocert: " + failing + ": the deploy hook for a.test failed with exit code 3; its last output: "
                + "reloading nginx | nginx: [emerg] cannot load certificate; the certificate is stored all the same"), errors);
        assertTrue(errors.contains(failing + ": the deploy hook for b.test failed with exit code 3"), errors);
        assertTrue(errors.contains("autocert: --post-hook: the post hook failed with exit code 4 and printed nothing"), errors);
    }

    @Test
    void aHangingHookIsKilledAfterHookTimeoutAndTheRunGoesOn() throws Exception {
        Renew renew = parse(new Renew(), "--hook-timeout", "1s", "--pre-hook", "echo waiting; sleep 300",
                "--deploy-hook", logs("deploy $RENEWED_DOMAINS"));

        long start = System.nanoTime();
        renew.hooks.pre(storage, console);
        renew.hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test"), console);

        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 15, "killed after about a second");
        assertEquals(List.of("deploy a.test"), logged());
        assertTrue(err.toString().contains("autocert: --pre-hook: the pre hook did not finish within 1 s and was killed; its last "
                + "output: waiting; make it finish sooner or raise --hook-timeout; ordering all the same"), err.toString());
    }

    @Test
    void theDeployHookOfTheSettingsRunsWhenTheCommandLineHasNone() throws Exception {
        Path config = storage.resolve("autocert.properties");
        Files.writeString(config, "autocert.deploy-hook=" + logs("from config $RENEWED_DOMAINS") + "\n");

        Renew fromConfig = parse(new Renew(), "--config", config.toString());
        fromConfig.hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test"), console);
        Renew overridden = parse(new Renew(), "--config", config.toString(), "--deploy-hook", logs("from option"));
        overridden.hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test"), console);

        assertEquals(List.of("from config a.test", "from option"), logged());
        assertEquals(Optional.of(logs("from option")), overridden.storageSettings().deployHook(),
                "--deploy-hook is the setting autocert.deploy-hook on the command line");
    }

    @Test
    void certbotsOldRenewHookIsTheDeployHook() throws Exception {
        Renew renew = parse(new Renew(), "--renew-hook", logs("deploy $RENEWED_DOMAINS"));

        renew.hooks.deploy(storage, storage.resolve("live/a.test"), List.of("a.test"), console);

        assertEquals(List.of("deploy a.test"), logged());
    }

    @Test
    void aHookProgramThatDoesNotExistIsAUsageErrorBeforeAnythingRuns() {
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> parse(new Renew(), "--pre-hook", "/nonexistent/stop-nginx --now"));
        assertTrue(e.getMessage().startsWith("--pre-hook: '/nonexistent/stop-nginx' does not exist"), e.getMessage());

        Path notExecutable = storage.resolve("reload.sh");
        List<String> messages = new ArrayList<>();
        for (String option : List.of("--post-hook", "--deploy-hook")) {
            try {
                Files.writeString(notExecutable, "#!/bin/sh\n");
                parse(new Renew(), option, notExecutable.toString());
            } catch (CommandLine.ParameterException | IOException failure) {
                messages.add(failure.getMessage());
            }
        }
        assertEquals(2, messages.size(), messages.toString());
        assertTrue(messages.get(1).contains("is not executable"), messages.toString());
    }

    @Test
    void hookTimeoutTakesDurations() {
        assertEquals(Duration.ofSeconds(90), parse(new Renew(), "--hook-timeout", "90s").hooks.timeout);
        assertEquals(Duration.ofMinutes(2), parse(new Renew(), "--hook-timeout", "2m").hooks.timeout);
        assertEquals(Duration.ofSeconds(30), parse(new Renew(), "--hook-timeout", "30").hooks.timeout);
        assertEquals(HookOptions.DEFAULT_TIMEOUT, parse(new Renew()).hooks.timeout);
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> parse(new Renew(), "--hook-timeout", "soon"));
        assertTrue(e.getMessage().contains("expected a duration such as 90s, 5m or 1h but was 'soon'"), e.getMessage());
        assertThrows(CommandLine.ParameterException.class, () -> parse(new Renew(), "--hook-timeout", "0"));
        assertFalse(parse(new Renew()).hooks.noDirectoryHooks);
    }
}
