package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code autocert.notify-command}: the operator's shell command, run when a certificate is
 * obtained or renewed, when an order fails, and when a certificate is expiring (renewal keeps
 * failing and little of its lifetime is left, or its placeholder is still served after {@code
 * autocert.placeholder-alert}), as Apache mod_md's {@code MDMessageCmd}: the event
 * and the name are its arguments {@code $1} and {@code $2}, and the details are in
 * {@code AUTOCERT_*} variables. Since Let's Encrypt no longer sends expiry e-mails, this is how an
 * operator hears of trouble without reading logs: mail, a chat webhook, a pager.
 *
 * <p>Runs on its own thread, {@code autocert-notify}, one at a time in the order of the events,
 * never on the renewal or the listeners' thread; each run is killed after {@link #TIMEOUT}. A
 * failure is logged at WARN and changes nothing else. Thread-safe.
 */
final class NotifyCommand implements CertificateListener {

    private static final Logger LOG = LoggerFactory.getLogger(NotifyCommand.class);

    /** How long one run may take: a mail or a webhook takes seconds. */
    static final Duration TIMEOUT = Duration.ofMinutes(1);
    /**
     * How many runs may wait: when a thousand certificates fail at once behind a slow command,
     * the operator has heard of it long before the thousandth; the rest are dropped, each with a WARN.
     */
    static final int QUEUE_LIMIT = 100;

    private final String command;
    private final HookRunner runner;
    private final ThreadPoolExecutor executor;

    NotifyCommand(String command) {
        this.command = requireNonNull(command, "command");
        this.runner = new HookRunner(AutocertSettings.PREFIX + AutocertSettings.NOTIFY_COMMAND, "(1 minute, fixed)");
        this.executor = DeployHook.hookThread("autocert-notify", QUEUE_LIMIT);
    }

    @Override
    public void onEvent(CertificateEvent event) {
        submit(event);
    }

    /** Queues a run for {@code event} when it is one that notifies; {@return when the run ended, or null when none is queued} */
    CompletableFuture<Void> submit(CertificateEvent event) {
        switch (event.type()) {
            case OBTAINED, RENEWED, FAILED, EXPIRING -> {
            }
            default -> {
                return null;
            }
        }
        String type = event.type().name().toLowerCase(Locale.ROOT);
        Map<String, String> environment = environment(event);
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    runner.run("the notify command for " + type + " " + event.name(),
                            List.of("/bin/sh", "-c", command, "autocert-notify", type, event.name()), environment, TIMEOUT);
                    LOG.debug("Notify command ran for {} {}", type, event.name());
                    done.complete(null);
                } catch (AutocertException | RuntimeException e) {
                    LOG.warn("{}", e.getMessage());
                    done.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            if (!executor.isShutdown()) {
                LOG.warn("autocert.notify-command not run for {} {}: {} runs are already waiting for the command", type,
                        event.name(), QUEUE_LIMIT);
            }
            done.completeExceptionally(e);
        }
        return done;
    }

    /** What the command is told, besides {@code $1} (the event) and {@code $2} (the name); never a secret. */
    static Map<String, String> environment(CertificateEvent event) {
        Map<String, String> env = new LinkedHashMap<>();
        // The server's own AUTOCERT_* variables may be its settings, secrets among them
        // (AUTOCERT_STORAGE_PASSWORD, AUTOCERT_EAB_HMAC_KEY): the command sees only the event's.
        System.getenv().keySet().stream().filter(name -> name.startsWith("AUTOCERT_")).forEach(name -> env.put(name, null));
        env.put("AUTOCERT_EVENT", event.type().name().toLowerCase(Locale.ROOT));
        env.put("AUTOCERT_NAME", event.name());
        env.put("AUTOCERT_DOMAINS", String.join(" ", event.certificate().names()));
        env.put("AUTOCERT_PLACEHOLDER", Boolean.toString(event.certificate().placeholder()));
        env.put("AUTOCERT_NOT_AFTER", event.certificate().notAfter().toString());
        if (!event.certificate().placeholder()) {
            env.put("AUTOCERT_SERIAL", event.certificate().serial());
        }
        event.cause().ifPresent(cause -> env.put("AUTOCERT_ERROR", String.valueOf(cause.getMessage())));
        if (event.attempt() > 0) {
            env.put("AUTOCERT_ATTEMPT", Integer.toString(event.attempt()));
        }
        event.nextAttempt().ifPresent(next -> env.put("AUTOCERT_NEXT_ATTEMPT", next.toString()));
        env.put("AUTOCERT_TIME", event.time().toString());
        return env;
    }

    /**
     * Lets queued runs finish for up to {@code wait}, then gives up on them: a one-shot process
     * (the command line) must not exit before its failure was reported.
     */
    void finish(Duration wait) {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                LOG.warn("{} still runs after {}; not waiting for it", AutocertSettings.PREFIX + AutocertSettings.NOTIFY_COMMAND, wait);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return AutocertSettings.PREFIX + AutocertSettings.NOTIFY_COMMAND + "=" + command;
    }
}
