package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.CertbotHooks;
import dev.autocert.core.ChallengeData;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.HookRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code autocert.dns-provider=exec}: runs the user's own program, with one of two contracts.
 * <ul>
 *   <li><b>lego's</b> ({@code EXEC_PATH}): {@code PROGRAM present FQDN VALUE} and {@code PROGRAM
 *       cleanup FQDN VALUE}, the FQDN with its final dot and after any CNAME on {@code
 *       _acme-challenge}; with {@code EXEC_MODE=RAW}, {@code PROGRAM present -- DOMAIN TOKEN
 *       KEY_AUTH} instead.</li>
 *   <li><b>Certbot's manual hooks</b> ({@code dns_exec_auth_hook}, {@code dns_exec_cleanup_hook}):
 *       shell commands run with {@code CERTBOT_DOMAIN}, {@code CERTBOT_VALIDATION}, … in their
 *       environment, the cleanup hook also with {@code CERTBOT_AUTH_OUTPUT} (see {@link CertbotHooks}).</li>
 * </ul>
 *
 * <p>A program exiting non-zero fails the challenge with its exit code and its last lines of
 * output, with the credentials file's values, the token, the key authorization and secret-looking
 * variables cut out (see {@link HookRunner}); one running longer than the timeout is killed. As lego and Certbot do, programs run one
 * at a time (scripts written for them read and rewrite zone files without locking), and each must
 * add its value beside any other at the name: a wildcard and its apex are presented together.
 * Presenting a value this provider already presented, or cleaning one up twice, runs nothing.
 * Thread-safe.
 */
final class ExecProvider implements DnsProvider, ChallengeAware {

    private static final Logger LOG = LoggerFactory.getLogger(ExecProvider.class);
    private static final String NAME = "exec";
    private static final String CHALLENGE_LABEL = "_acme-challenge.";
    private static final String TIMEOUT_SETTING = "dns_exec_timeout (EXEC_TIMEOUT)";
    /** One run at a time per program or hook, across providers: made anew for every order. */
    private static final Map<String, ReentrantLock> RUNNING = new ConcurrentHashMap<>();

    /** The contract a user's program follows. */
    enum Contract {
        /** lego's default: {@code present FQDN VALUE}. */
        LEGO,
        /** lego's {@code EXEC_MODE=RAW}: {@code present -- DOMAIN TOKEN KEY_AUTH}. */
        LEGO_RAW,
        /** Certbot's {@code --manual-auth-hook} and {@code --manual-cleanup-hook}. */
        CERTBOT
    }

    private final Contract contract;
    private final String program;
    private final CertbotHooks hooks;
    private final Duration timeout;
    private final HookRunner runner;
    /** Per record ({@code name value}): what the auth hook printed while presented, absent once cleaned up. */
    private final Map<String, Optional<String>> records = new ConcurrentHashMap<>();

    private ExecProvider(Contract contract, String program, CertbotHooks hooks, Duration timeout, HookRunner runner) {
        this.contract = contract;
        this.program = program;
        this.hooks = hooks;
        this.timeout = timeout;
        this.runner = runner;
    }

    /**
     * A provider with lego's contract, plain or raw.
     *
     * @param secrets values never to quote from the program's output, such as the credentials file's
     */
    static ExecProvider lego(String program, boolean raw, Duration timeout, List<String> secrets) {
        return new ExecProvider(raw ? Contract.LEGO_RAW : Contract.LEGO, requireNonNull(program, "program"), null, timeout,
                runner(secrets));
    }

    /**
     * A provider with Certbot's contract.
     *
     * @param secrets values never to quote from the hooks' output, such as the credentials file's
     */
    static ExecProvider certbot(String authHook, String cleanupHook, Duration timeout, List<String> secrets) {
        HookRunner runner = runner(secrets);
        return new ExecProvider(Contract.CERTBOT, authHook, new CertbotHooks(authHook, cleanupHook, timeout, runner), timeout, runner);
    }

    private static HookRunner runner(List<String> secrets) {
        return new HookRunner("DNS-01 through " + NAME, TIMEOUT_SETTING, secrets);
    }

    Contract contract() {
        return contract;
    }

    @Override
    public void present(TxtRecord record) throws AutocertException {
        present(record, null);
    }

    @Override
    public void cleanUp(TxtRecord record) throws AutocertException {
        cleanUp(record, null);
    }

    /**
     * As {@link #present(TxtRecord)}, knowing the challenge: what {@code EXEC_MODE=RAW} passes on
     * (token, key authorization) and Certbot's {@code CERTBOT_DOMAIN} when {@code _acme-challenge}
     * is a CNAME (the record's name is then the CNAME's target).
     *
     * @param challenge the challenge, or null when only its record is known
     */
    @Override
    public void present(TxtRecord record, ChallengeData challenge) throws AutocertException {
        String key = record.name() + " " + record.value();
        ReentrantLock lock = RUNNING.computeIfAbsent(program, p -> new ReentrantLock());
        lock.lock();
        try {
            Optional<String> state = records.get(key);
            if (state != null && state.isPresent()) {
                return; // presented already
            }
            String output = switch (contract) {
                case LEGO -> runner.run(program + " present " + record.name(), List.of(program, "present", record.name(), record.value()),
                        Map.of(), timeout);
                case LEGO_RAW -> runner.run(program + " present for " + domain(record, challenge),
                        raw("present", record, challenge), Map.of(), timeout, List.of(challenge.token(), challenge.keyAuthorization()));
                case CERTBOT -> hooks.auth(certbotChallenge(record, challenge));
            };
            records.put(key, Optional.of(output));
            LOG.debug("exec: presented {} through {}", record.name(), contract);
        } finally {
            lock.unlock();
        }
    }

    /**
     * As {@link #cleanUp(TxtRecord)}, knowing the challenge.
     *
     * @param challenge the challenge, or null when only its record is known
     */
    @Override
    public void cleanUp(TxtRecord record, ChallengeData challenge) throws AutocertException {
        String key = record.name() + " " + record.value();
        ReentrantLock lock = RUNNING.computeIfAbsent(program, p -> new ReentrantLock());
        lock.lock();
        try {
            Optional<String> state = records.get(key);
            if (state != null && state.isEmpty()) {
                return; // cleaned up already
            }
            // a record this provider did not present (an earlier run's) is cleaned up all the same
            switch (contract) {
                case LEGO -> runner.run(program + " cleanup " + record.name(), List.of(program, "cleanup", record.name(), record.value()),
                        Map.of(), timeout);
                case LEGO_RAW -> runner.run(program + " cleanup for " + domain(record, challenge),
                        raw("cleanup", record, challenge), Map.of(), timeout, List.of(challenge.token(), challenge.keyAuthorization()));
                case CERTBOT -> hooks.cleanup(certbotChallenge(record, challenge), state != null ? state.get() : "");
            }
            records.put(key, Optional.empty());
        } finally {
            lock.unlock();
        }
    }

    private List<String> raw(String action, TxtRecord record, ChallengeData challenge) throws AutocertException {
        if (challenge == null) {
            throw new AutocertException("DNS-01 through exec: EXEC_MODE=RAW passes the challenge's token and key authorization, "
                    + "which this caller did not give for " + record.name() + "; leave EXEC_MODE unset to get the record's name and value");
        }
        List<String> command = new ArrayList<>(List.of(program, action, "--"));
        command.addAll(List.of(challenge.domain(), challenge.token(), challenge.keyAuthorization()));
        return command;
    }

    private static CertbotHooks.Challenge certbotChallenge(TxtRecord record, ChallengeData challenge) {
        String domain = domain(record, challenge);
        if (challenge == null) {
            return new CertbotHooks.Challenge(domain, record.value(), null, 0, List.of(domain)); // a caller outside an order
        }
        return new CertbotHooks.Challenge(domain, record.value(), null, challenge.remaining(), challenge.orderDomains());
    }

    /** The name being validated: the challenge's, else the record's name without {@code _acme-challenge.}. */
    private static String domain(TxtRecord record, ChallengeData challenge) {
        if (challenge != null) {
            return challenge.domain();
        }
        String name = record.relativeName();
        return name.startsWith(CHALLENGE_LABEL) ? name.substring(CHALLENGE_LABEL.length()) : name;
    }

    @Override
    public String toString() {
        return contract == Contract.CERTBOT ? "exec (" + hooks + ")" : "exec (" + program + (contract == Contract.LEGO_RAW ? ", raw" : "") + ")";
    }

    /**
     * Its settings: {@code dns_exec_path} or lego's {@code EXEC_PATH} (with {@code EXEC_MODE}), or
     * Certbot's hooks as {@code dns_exec_auth_hook} and {@code dns_exec_cleanup_hook}; {@code
     * dns_exec_contract} ({@code lego} or {@code certbot}) when both are given; {@code
     * dns_exec_timeout}, seconds a run may take (default 180). lego's defaults: propagation
     * timeout 60 s, polling interval 2 s.
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        /** How long one run may take, unless set: long enough for a hook that sleeps a minute for propagation itself. */
        static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(180);

        public Factory() {
            super(NAME, "EXEC", Duration.ofSeconds(60), Duration.ofSeconds(2), 120);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            return createExec(credentials, System.getenv());
        }

        /** As {@link #create}, with the environment that finds a bare program name on its {@code PATH}. */
        ExecProvider createExec(DnsCredentials credentials, Map<String, String> environment) {
            Optional<String> path = credentials.get("dns_exec_path", "EXEC_PATH");
            Optional<String> authHook = credentials.get("dns_exec_auth_hook", "EXEC_AUTH_HOOK");
            Optional<String> cleanupHook = credentials.get("dns_exec_cleanup_hook", "EXEC_CLEANUP_HOOK");
            String contract = credentials.get("dns_exec_contract", "EXEC_CONTRACT").map(c -> c.strip().toLowerCase(Locale.ROOT))
                    .orElse(authHook.isPresent() || cleanupHook.isPresent() ? "certbot" : "lego");
            if (path.isPresent() && authHook.isPresent() && credentials.get("dns_exec_contract", "EXEC_CONTRACT").isEmpty()) {
                throw credentials.invalid("settings", "name both a lego program (dns_exec_path, EXEC_PATH) and Certbot hooks "
                        + "(dns_exec_auth_hook, EXEC_AUTH_HOOK); keep one, or set dns_exec_contract to lego or certbot");
            }
            int seconds = credentials.integer("dns_exec_timeout", "EXEC_TIMEOUT").orElse((int) DEFAULT_TIMEOUT.toSeconds());
            if (seconds < 1) {
                throw credentials.invalid("dns_exec_timeout", "is " + seconds + "; give the seconds a run may take, such as 180");
            }
            Duration timeout = Duration.ofSeconds(seconds);
            switch (contract) {
                case "lego" -> {
                    String program = path.orElseThrow(() -> credentials.missing(List.of("dns_exec_path"), List.of("EXEC_PATH")));
                    HookRunner.problem(program, environment).ifPresent(p -> {
                        throw credentials.invalid("program (dns_exec_path, EXEC_PATH)", p);
                    });
                    String mode = credentials.get("dns_exec_mode", "EXEC_MODE").orElse("");
                    if (!mode.isEmpty() && !mode.equalsIgnoreCase("RAW")) {
                        throw credentials.invalid("mode (dns_exec_mode, EXEC_MODE)", "is '" + mode + "'; expected RAW, or leave it unset");
                    }
                    return lego(program, !mode.isEmpty(), timeout, secrets(credentials));
                }
                case "certbot" -> {
                    String auth = authHook.orElseThrow(() -> credentials.missing(List.of("dns_exec_auth_hook"), List.of("EXEC_AUTH_HOOK")));
                    check(credentials, "auth hook (dns_exec_auth_hook, EXEC_AUTH_HOOK)", auth, environment);
                    if (cleanupHook.isPresent()) {
                        check(credentials, "cleanup hook (dns_exec_cleanup_hook, EXEC_CLEANUP_HOOK)", cleanupHook.get(), environment);
                    }
                    return certbot(auth, cleanupHook.orElse(null), timeout, secrets(credentials));
                }
                default -> throw credentials.invalid("contract (dns_exec_contract, EXEC_CONTRACT)",
                        "is '" + contract + "'; expected lego or certbot");
            }
        }

        /**
         * The credentials file's values but this provider's own settings (its program, hooks,
         * mode, timeout): what a hook reading the file may print, never quoted in a failure.
         */
        private static List<String> secrets(DnsCredentials credentials) {
            return credentials.fileValues(key -> !key.toLowerCase(Locale.ROOT).matches("(dns_)?exec_.*"));
        }

        /** A hook is a shell command: its first word is checked when it names a file. */
        private static void check(DnsCredentials credentials, String key, String hook, Map<String, String> environment) {
            String file = CertbotHooks.program(hook);
            if (file != null) {
                HookRunner.problem(file, environment).ifPresent(p -> {
                    throw credentials.invalid(key, p);
                });
            }
        }
    }
}
