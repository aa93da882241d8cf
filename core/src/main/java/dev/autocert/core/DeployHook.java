package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code autocert.deploy-hook}: the operator's shell command, run after each certificate the
 * engine obtains or renews, with Certbot's deploy-hook environment, so a hook written for
 * Certbot's {@code --deploy-hook} (reloading an nginx that reads {@code live/}) runs unchanged:
 * {@code RENEWED_LINEAGE} is the absolute {@code live/NAME} directory, {@code RENEWED_DOMAINS}
 * the certificate's names separated by spaces.
 *
 * <p>Runs on its own thread, {@code autocert-deploy-hook}, one hook at a time in the order the
 * certificates were stored, never on the renewal or the listeners' thread: a slow or hanging
 * hook delays only the hooks after it. Each run is killed, with what it started, after {@link
 * #TIMEOUT}. A failure is logged at WARN with the exit code and the last lines the hook printed
 * (never its environment); the certificate stays stored and served. Needs {@link FileStorage}:
 * the hook reads {@code live/}. Thread-safe.
 */
final class DeployHook {

    private static final Logger LOG = LoggerFactory.getLogger(DeployHook.class);

    /** How long one run may take before it is killed: a reload takes seconds; longer work belongs in the background. */
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final String command;
    private final Path storageDirectory;
    private final Duration timeout;
    private final HookRunner runner;
    private final ThreadPoolExecutor executor;

    /**
     * @param command          the shell command, run with {@code /bin/sh -c}
     * @param storageDirectory the file storage's directory, which holds {@code live/}
     * @param timeout          how long one run may take
     */
    DeployHook(String command, Path storageDirectory, Duration timeout) {
        this.command = requireNonNull(command, "command");
        this.storageDirectory = storageDirectory.toAbsolutePath().normalize();
        this.timeout = requireNonNull(timeout, "timeout");
        this.runner = new HookRunner(AutocertSettings.PREFIX + AutocertSettings.DEPLOY_HOOK,
                "(" + (timeout.toSeconds() % 60 == 0 ? timeout.toMinutes() + " minutes" : timeout.toSeconds() + " s")
                        + ", fixed; start long work in the background)");
        this.executor = hookThread("autocert-deploy-hook");
    }

    /** One daemon thread named {@code name} that runs queued hooks in order, and ends when idle. */
    static ThreadPoolExecutor hookThread(String name) {
        return hookThread(name, Integer.MAX_VALUE);
    }

    /**
     * One daemon thread named {@code name} that runs up to {@code capacity} queued hooks in order,
     * refusing more ({@link java.util.concurrent.RejectedExecutionException}), and ends when idle.
     */
    static ThreadPoolExecutor hookThread(String name, int capacity) {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(capacity), r -> {
            Thread thread = new Thread(r, name);
            thread.setDaemon(true);
            return thread;
        });
        executor.allowCoreThreadTimeOut(true); // no thread lingers between renewals
        return executor;
    }

    /**
     * The deploy hook of {@code settings} for an engine on {@code storage}, or null when none is set.
     *
     * @throws InvalidSettingException naming {@code autocert.deploy-hook} when the storage is not a directory
     */
    static DeployHook of(AutocertSettings settings, Storage storage) {
        String command = settings.deployHook().orElse(null);
        if (command == null) {
            return null;
        }
        if (!(storage instanceof FileStorage files)) {
            throw new InvalidSettingException(AutocertSettings.PREFIX + AutocertSettings.DEPLOY_HOOK, "is set but the storage "
                    + storage + " has no live/ directory for the hook to read; it needs a directory in "
                    + AutocertSettings.PREFIX + AutocertSettings.STORAGE + ", or use a CertificateListener instead");
        }
        return new DeployHook(command, files.directory(), TIMEOUT);
    }

    /**
     * Queues a run for the certificate just stored and returns at once. {@return a future that
     * completes when the run ended: normally after a success, exceptionally with the failure}
     *
     * @param name        the managed certificate's name, for the log
     * @param storageName its directory's name under {@code live/}
     * @param domains     its names, for {@code RENEWED_DOMAINS}
     */
    CompletableFuture<Void> submit(String name, String storageName, List<String> domains) {
        Path lineage = storageDirectory.resolve(Lineages.liveKey(storageName));
        Map<String, String> environment = environment(lineage, domains);
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    LOG.debug("Running {} for {}", AutocertSettings.PREFIX + AutocertSettings.DEPLOY_HOOK, name);
                    runner.run("the deploy hook for " + name, List.of("/bin/sh", "-c", command), environment, timeout);
                    LOG.info("Deploy hook for {} finished (RENEWED_LINEAGE={})", name, lineage);
                    done.complete(null);
                } catch (AutocertException e) {
                    LOG.warn("{}; certificate {} is stored and served all the same", e.getMessage(), name);
                    done.completeExceptionally(e);
                } catch (RuntimeException e) {
                    LOG.warn("The deploy hook for {} failed: {}", name, e.toString());
                    done.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    /** Certbot's deploy-hook variables: {@code RENEWED_LINEAGE} and {@code RENEWED_DOMAINS}. */
    static Map<String, String> environment(Path lineage, List<String> domains) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RENEWED_LINEAGE", lineage.toAbsolutePath().normalize().toString());
        env.put("RENEWED_DOMAINS", String.join(" ", domains));
        return env;
    }

    @Override
    public String toString() {
        return AutocertSettings.PREFIX + AutocertSettings.DEPLOY_HOOK + "=" + command;
    }
}
