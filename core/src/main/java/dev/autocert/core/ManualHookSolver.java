package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP-01 through the operator's own hooks ({@code autocert.manual-auth-hook} and {@code
 * autocert.manual-cleanup-hook}), with Certbot's manual-hook contract, for a server whose port 80
 * belongs to another web server: a hook written for Certbot (writing the token into that server's
 * webroot, or onto a load balancer) runs unchanged. The token is also answered from memory, so a
 * CA that reaches this server directly validates too. Hooks run one at a time, as Certbot runs
 * them. Thread-safe.
 */
final class ManualHookSolver implements ChallengeSolver {

    private static final Logger LOG = LoggerFactory.getLogger(ManualHookSolver.class);
    static final Duration TIMEOUT = Duration.ofMinutes(3);

    private final CertbotHooks hooks;
    private final Http01Tokens tokens;
    private final Map<ChallengeData, String> authOutput = new ConcurrentHashMap<>();

    ManualHookSolver(String authHook, String cleanupHook, Http01Tokens tokens) {
        this.hooks = new CertbotHooks(authHook, cleanupHook, TIMEOUT,
                new HookRunner("HTTP-01 through " + AutocertSettings.PREFIX + AutocertSettings.MANUAL_AUTH_HOOK, "(3 minutes, fixed)"));
        this.tokens = requireNonNull(tokens, "tokens");
    }

    @Override
    public ChallengeType type() {
        return ChallengeType.HTTP_01;
    }

    @Override
    public void present(ChallengeData challenge) throws AutocertException {
        tokens.put(challenge.token(), challenge.keyAuthorization());
        LOG.debug("Running the manual auth hook for {}", challenge);
        String output;
        synchronized (hooks) {
            output = hooks.auth(certbot(challenge));
        }
        authOutput.put(challenge, output);
    }

    @Override
    public void cleanUp(ChallengeData challenge) throws AutocertException {
        tokens.remove(challenge.token());
        String output = authOutput.remove(challenge);
        LOG.debug("Running the manual cleanup hook for {}", challenge);
        synchronized (hooks) {
            hooks.cleanup(certbot(challenge), output);
        }
    }

    private static CertbotHooks.Challenge certbot(ChallengeData challenge) {
        return new CertbotHooks.Challenge(challenge.domain(), challenge.keyAuthorization(), challenge.token(), challenge.remaining(),
                challenge.orderDomains());
    }

    @Override
    public String toString() {
        return "HTTP-01 through " + hooks;
    }
}
