package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code autocert.deploy-hook}: the setting, and the runs, with a real {@code /bin/sh}. */
class DeployHookTest {

    @TempDir
    Path storage;

    @Test
    void runsTheCommandWithCertbotsEnvironment() throws Exception {
        Path out = storage.resolve("env.txt");
        DeployHook hook = new DeployHook("echo \"$RENEWED_LINEAGE|$RENEWED_DOMAINS\" > " + out, storage, Duration.ofSeconds(30));

        hook.submit("example.test", "example.test", List.of("example.test", "www.example.test")).get(30, TimeUnit.SECONDS);

        String[] fields = Files.readString(out).strip().split("\\|", -1);
        assertEquals(storage.toAbsolutePath().resolve("live/example.test").toString(), fields[0]);
        assertEquals("example.test www.example.test", fields[1]);
    }

    @Test
    void aWildcardsLineageIsItsStorageName() throws Exception {
        Path out = storage.resolve("lineage.txt");
        DeployHook hook = new DeployHook("printf %s \"$RENEWED_LINEAGE\" > " + out, storage, Duration.ofSeconds(30));

        hook.submit("*.example.test", "_.example.test", List.of("*.example.test")).get(30, TimeUnit.SECONDS);

        assertEquals(storage.toAbsolutePath().resolve("live/_.example.test").toString(), Files.readString(out));
    }

    @Test
    void submitReturnsAtOnceAndRunsOneHookAtATimeInOrder() throws Exception {
        Path out = storage.resolve("order.txt");
        DeployHook hook = new DeployHook("sleep 1; echo \"$RENEWED_DOMAINS\" >> " + out, storage, Duration.ofSeconds(30));

        long start = System.nanoTime();
        CompletableFuture<Void> first = hook.submit("a.test", "a.test", List.of("a.test"));
        CompletableFuture<Void> second = hook.submit("b.test", "b.test", List.of("b.test"));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 500, "submit does not wait for the hook");
        assertFalse(first.isDone());

        CompletableFuture.allOf(first, second).get(30, TimeUnit.SECONDS);
        assertEquals(List.of("a.test", "b.test"), Files.readAllLines(out));
    }

    @Test
    void aFailureCarriesTheExitCodeAndTheLastOutput() throws Exception {
        DeployHook hook = new DeployHook("echo reloading; echo 'nginx: [emerg] bad config' >&2; exit 3", storage, Duration.ofSeconds(30));

        ExecutionException e = assertThrows(ExecutionException.class,
                () -> hook.submit("example.test", "example.test", List.of("example.test")).get(30, TimeUnit.SECONDS));

        AutocertException failure = assertInstanceOf(AutocertException.class, e.getCause());
        assertTrue(failure.getMessage().startsWith("autocert.deploy-hook: the deploy hook for example.test failed with exit code 3"),
                failure.getMessage());
        assertTrue(failure.getMessage().contains("nginx: [emerg] bad config"), failure.getMessage());
    }

    @Test
    void aHangingHookAndWhatItStartedAreKilledAfterTheTimeout() throws Exception {
        Path pid = storage.resolve("child.pid");
        DeployHook hook = new DeployHook("sleep 300 & echo $! > " + pid + "; wait", storage, Duration.ofSeconds(1));

        long start = System.nanoTime();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> hook.submit("example.test", "example.test", List.of("example.test")).get(30, TimeUnit.SECONDS));

        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10, "killed after its timeout");
        assertTrue(e.getCause().getMessage().contains("did not finish within 1 s and was killed"), e.getCause().getMessage());
        long child = Long.parseLong(Files.readString(pid).strip());
        Optional<ProcessHandle> sleeper = ProcessHandle.of(child);
        if (sleeper.isPresent()) {
            sleeper.get().onExit().get(5, TimeUnit.SECONDS); // the hook's own children are killed too
        }
    }

    @Test
    void theSettingIsReadTrimmedAndBlankMeansNone() {
        AutocertSettings set = AutocertSettings.fromProperties(java.util.Map.of("autocert.domains", "example.test",
                "autocert.agree-tos", "true", "autocert.deploy-hook", "  systemctl reload nginx  "));
        assertEquals(Optional.of("systemctl reload nginx"), set.deployHook());
        assertTrue(set.toString().contains("deployHook=systemctl reload nginx"), set.toString());
        assertEquals(Optional.empty(), AutocertSettings.fromProperties(java.util.Map.of("autocert.domains", "example.test",
                "autocert.agree-tos", "true", "autocert.deploy-hook", " ")).deployHook());
        assertEquals(set.deployHook(), set.toBuilder().build().deployHook());
        assertTrue(AutocertSettings.NAMES.contains("deploy-hook"));
    }

    @Test
    void aProgramThatDoesNotExistIsRefusedWhenTheSettingsAreBuilt() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> AutocertSettings.builder().domains("example.test").agreeTos(true)
                        .deployHook("/nonexistent/reload-nginx --now").build());
        assertEquals("autocert.deploy-hook", e.setting());
        assertTrue(e.getMessage().contains("'/nonexistent/reload-nginx' does not exist"), e.getMessage());
    }

    @Test
    void anEngineOnStorageWithoutLiveDirectoriesRefusesTheSetting() {
        AutocertSettings settings = AutocertSettings.builder().domains("example.test").agreeTos(true).deployHook("true").build();
        Storage memory = new FailingReads(new FileStorage(storage), 0); // any Storage that is not a FileStorage
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> CertificateManager.builder(settings).storage(memory).build());
        assertEquals("autocert.deploy-hook", e.setting());
        // a tool that runs the hook itself may still use any storage
        CertificateManager.builder(settings).storage(memory).runsDeployHook(false).build();
    }
}
