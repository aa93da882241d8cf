package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Certbot's manual-hook contract ({@code --manual-auth-hook}, {@code --manual-cleanup-hook}), so a
 * hook written for Certbot runs unchanged: each hook is a shell command ({@code /bin/sh -c}, as
 * Certbot runs it) that gets the challenge in {@code CERTBOT_DOMAIN}, {@code CERTBOT_VALIDATION},
 * {@code CERTBOT_TOKEN} (HTTP-01 only), {@code CERTBOT_REMAINING_CHALLENGES} and {@code
 * CERTBOT_ALL_DOMAINS}; the cleanup hook also gets {@code CERTBOT_AUTH_OUTPUT}, what the auth
 * hook printed. Serves HTTP-01 ({@code autocert.manual-auth-hook}) and DNS-01 (the {@code exec}
 * provider of {@code autocert-dns}) alike. Thread-safe; the caller serialises runs when its hooks
 * expect one at a time. For Autocert's own modules, not a stable API.
 */
public final class CertbotHooks {

    private final String authHook;
    private final String cleanupHook;
    private final Duration timeout;
    private final HookRunner runner;

    /**
     * @param authHook    the auth hook's shell command
     * @param cleanupHook the cleanup hook's shell command, or null for none
     * @param timeout     how long one hook may run before it is killed
     * @param runner      what runs them
     */
    public CertbotHooks(String authHook, String cleanupHook, Duration timeout, HookRunner runner) {
        this.authHook = requireNonNull(authHook, "authHook");
        this.cleanupHook = cleanupHook;
        this.timeout = requireNonNull(timeout, "timeout");
        this.runner = requireNonNull(runner, "runner");
    }

    /**
     * What a hook is told about one challenge.
     *
     * @param domain     the name being validated, without {@code *.} for a wildcard ({@code CERTBOT_DOMAIN})
     * @param validation the TXT value for DNS-01, the key authorization for HTTP-01 ({@code CERTBOT_VALIDATION})
     * @param token      the HTTP-01 token, or null for DNS-01 ({@code CERTBOT_TOKEN})
     * @param remaining  how many challenges of the order come after this one ({@code CERTBOT_REMAINING_CHALLENGES})
     * @param allDomains every name of the order ({@code CERTBOT_ALL_DOMAINS}, comma-separated)
     */
    public record Challenge(String domain, String validation, String token, int remaining, List<String> allDomains) {

        public Challenge {
            requireNonNull(domain, "domain");
            requireNonNull(validation, "validation");
            allDomains = List.copyOf(allDomains);
        }

        /** Domain and token; the validation is left out, as it may be an HTTP-01 key authorization. */
        @Override
        public String toString() {
            return domain + (token != null ? " (token " + token + ")" : "");
        }
    }

    /** Runs the auth hook. {@return what it printed, for the cleanup hook} */
    public String auth(Challenge challenge) throws AutocertException {
        return runner.run("the auth hook for " + challenge.domain(), List.of("/bin/sh", "-c", authHook), environment(challenge, null),
                timeout);
    }

    /** Runs the cleanup hook, when there is one, with what the auth hook printed. */
    public void cleanup(Challenge challenge, String authOutput) throws AutocertException {
        if (cleanupHook != null) {
            runner.run("the cleanup hook for " + challenge.domain(), List.of("/bin/sh", "-c", cleanupHook),
                    environment(challenge, authOutput == null ? "" : authOutput), timeout);
        }
    }

    private static Map<String, String> environment(Challenge challenge, String authOutput) {
        // null removes a variable this process may have inherited: hooks tell auth from cleanup by
        // whether CERTBOT_AUTH_OUTPUT is set, and DNS-01 from HTTP-01 by CERTBOT_TOKEN
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CERTBOT_DOMAIN", challenge.domain());
        env.put("CERTBOT_VALIDATION", challenge.validation());
        env.put("CERTBOT_TOKEN", challenge.token());
        env.put("CERTBOT_REMAINING_CHALLENGES", Integer.toString(challenge.remaining()));
        env.put("CERTBOT_ALL_DOMAINS", String.join(",", challenge.allDomains()));
        env.put("CERTBOT_AUTH_OUTPUT", authOutput == null ? null : authOutput.strip()); // stripped, as Certbot does
        return env;
    }

    /** The first word of a hook command, when it names a file: to check it exists before the first order. */
    public static String program(String command) {
        String first = command.strip().split("\\s+", 2)[0];
        if (first.length() >= 2 && (first.startsWith("\"") && first.endsWith("\"") || first.startsWith("'") && first.endsWith("'"))) {
            first = first.substring(1, first.length() - 1);
        }
        return first.contains("/") ? first : null;
    }

    @Override
    public String toString() {
        return "Certbot hooks (auth " + authHook + (cleanupHook != null ? ", cleanup " + cleanupHook : "") + ")";
    }
}
