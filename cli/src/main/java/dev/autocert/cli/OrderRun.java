package dev.autocert.cli;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.ChallengeType;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.ManagedCertificate;
import dev.autocert.core.RenewalResult;
import dev.autocert.core.Storage;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One run of {@code certonly} or {@code renew}: an engine ({@link CertificateManager}) per
 * certificate on the verb's storage, which takes each certificate's storage lock as a server
 * does; the standalone responder while orders need it; and Certbot's hooks around it ({@link
 * HookOptions}): the pre hooks once before the first order, the deploy hooks after each new
 * certificate (which run none in a dry run), the post hooks once at the end if the pre hooks ran.
 * Not thread-safe: one verb, one thread.
 */
final class OrderRun implements AutoCloseable {

    /** How long to wait for another process that holds a certificate's lock: a server ordering it at this moment. */
    private static final Duration BUSY_WAIT = Duration.ofSeconds(90);
    private static final Duration BUSY_POLL = Duration.ofSeconds(2);

    private final Console console;
    private final HookOptions hooks;
    private final ChallengeOptions challenges;
    private final Storage storage;
    /** The storage directory; null for a database or Vault store. */
    private final Path directory;
    private final String where;
    private final boolean dryRun;
    private boolean preRan;
    private StandaloneResponder responder;
    private boolean responderFailed;

    OrderRun(Console console, HookOptions hooks, ChallengeOptions challenges, AutocertSettings settings, boolean dryRun) {
        if (!Logging.verbose()) {
            // The engine's WARN on a failed order says when *it* retries; the command does not
            // retry, and prints the failure itself. Set before the engine's logger exists.
            System.setProperty("org.slf4j.simpleLogger.log.dev.autocert.core.CertificateManager", "error");
        }
        this.console = requireNonNull(console, "console");
        this.hooks = requireNonNull(hooks, "hooks");
        this.challenges = requireNonNull(challenges, "challenges");
        challenges.webroot(); // checks --webroot before anything runs
        this.directory = CliStorage.directory(settings).orElse(null);
        this.where = CliStorage.where(settings);
        this.storage = CliStorage.of(settings, dryRun);
        this.dryRun = dryRun;
    }

    /** Where the storage is, for messages: its directory or its URL. */
    String directory() {
        return where;
    }

    /** The store the run reads and writes (in memory only, for a dry run). */
    Storage storage() {
        return storage;
    }

    /**
     * {@code settings} as this command orders with them: without tls-alpn-01 (it needs the
     * server's TLS port), http-01 through {@code webroot} when there is one, and for a dry run the
     * CA's staging endpoint when it has one.
     *
     * @throws InvalidSettingException naming what clashes
     */
    AutocertSettings adapt(AutocertSettings settings, Optional<Path> webroot) {
        AutocertSettings.Builder builder = settings.toBuilder();
        List<ChallengeType> types = new ArrayList<>(settings.challenges());
        types.remove(ChallengeType.TLS_ALPN_01);
        if (types.isEmpty()) {
            throw new InvalidSettingException(AutocertSettings.PREFIX + "challenges", "is tls-alpn-01, which the autocert command "
                    + "cannot answer (only a server on port 443 can); use http-01 (--standalone on --http-port, or --webroot PATH), "
                    + "dns-01 with --dns-provider, or --manual-auth-hook");
        }
        if (webroot.isPresent()) {
            if (settings.manualAuthHook().isPresent()) {
                throw new InvalidSettingException("--webroot", "and " + AutocertSettings.PREFIX
                        + "manual-auth-hook both answer http-01; choose one");
            }
            if (!types.contains(ChallengeType.HTTP_01)) {
                throw new InvalidSettingException("--webroot", "answers http-01, but " + AutocertSettings.PREFIX + "challenges is "
                        + ids(types) + "; add http-01 to it, or leave --webroot out");
            }
        }
        if (challenges.standalone && settings.manualAuthHook().isPresent()) {
            throw new InvalidSettingException("--standalone", "and " + AutocertSettings.PREFIX
                    + "manual-auth-hook both answer http-01; choose one");
        }
        builder.challenges(types.toArray(ChallengeType[]::new));
        if (dryRun) {
            builder.set("ca", String.join(",", settings.cas().stream().map(OrderRun::staging).map(URI::toString).toList()));
        }
        return builder.build();
    }

    /**
     * Obtains or renews the one certificate of {@code settings} (adapted already, with the same
     * {@code webroot}) if it is due or {@code force}; waits a while for another process that is
     * ordering it now.
     */
    RenewalResult order(AutocertSettings settings, Optional<Path> webroot, boolean force) {
        ManagedCertificate certificate = settings.certificates().get(0);
        String name = certificate.name();
        CertificateManager.Builder builder = CertificateManager.builder(settings).storage(storage).runsDeployHook(false);
        webroot.ifPresent(path -> builder.solver(new WebrootSolver(path, console)));
        try (CertificateManager manager = builder.build()) {
            if (!force) {
                Instant due = manager.renewalDue(name);
                if (due.isAfter(Instant.now())) {
                    return new RenewalResult(name, RenewalResult.Outcome.NOT_DUE, manager.certificate(name).orElseThrow(),
                            Optional.of(due), Optional.empty());
                }
            }
            beforeFirstOrder(settings, webroot);
            if (responder != null) {
                responder.answer(manager.http01Tokens());
            }
            console.progress((dryRun ? "Simulating an order" : "Ordering a certificate") + " for " + String.join(", ",
                    certificate.domains()) + " from " + settings.ca());
            RenewalResult result = manager.renewNow(name, force);
            Instant deadline = Instant.now().plus(BUSY_WAIT);
            while (result.outcome() == RenewalResult.Outcome.BUSY && Instant.now().isBefore(deadline)) {
                console.progress("Another process (a server on the same storage?) is ordering " + name + " now; waiting for it");
                sleep(BUSY_POLL);
                result = manager.renewNow(name, force);
            }
            if (result.issued()) {
                // under --dry-run the hooks run none and say so
                hooks.deploy(directory, directory != null ? directory.resolve("live").resolve(certificate.storageName())
                        : Path.of("live", certificate.storageName()), certificate.domains(), console);
            } else if (result.outcome() == RenewalResult.Outcome.FAILED || result.outcome() == RenewalResult.Outcome.BUSY) {
                hooks.failed(certificate.domains());
            }
            return result;
        }
    }

    private void beforeFirstOrder(AutocertSettings settings, Optional<Path> webroot) {
        if (!preRan) {
            preRan = true;
            hooks.pre(directory, console);
        }
        boolean http01 = settings.challenges().contains(ChallengeType.HTTP_01);
        if (responder == null && !responderFailed && http01 && webroot.isEmpty() && settings.manualAuthHook().isEmpty()) {
            try {
                responder = StandaloneResponder.start(settings.httpPort(), console);
            } catch (Failures.CommandFailure e) {
                if (settings.challenges().get(0) == ChallengeType.HTTP_01) {
                    throw e;
                }
                responderFailed = true; // http-01 is only a fallback here: go on with what comes first
                console.error("autocert: warning: " + e.getMessage());
            }
        }
    }

    /** The staging endpoint of {@code ca} when it has one (Let's Encrypt's), else {@code ca}. */
    static URI staging(URI ca) {
        return ca.equals(known("letsencrypt")) ? known("letsencrypt-staging") : ca;
    }

    private static URI known(String id) {
        return AutocertSettings.builder().set("ca", id).buildWithoutCertificates().ca();
    }

    private static String ids(List<ChallengeType> types) {
        return String.join(",", types.stream().map(ChallengeType::id).toList());
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "Interrupted");
        }
    }

    /** Stops the responder and runs the post hooks if the pre hooks ran. */
    @Override
    public void close() {
        if (responder != null) {
            responder.close();
            responder = null;
        }
        if (preRan) {
            preRan = false;
            hooks.post(directory, console);
        }
    }
}
