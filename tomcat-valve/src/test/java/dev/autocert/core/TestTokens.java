package dev.autocert.core;

/**
 * Puts a challenge into a real {@link Http01Tokens} as the engine's HTTP-01 solver does, so that
 * valve tests can ask for a current token without an order in flight. Test code only: it lives
 * in core's package to reach the package-private {@code put}.
 */
public final class TestTokens {

    private TestTokens() {
    }

    /** Makes {@code token} a current challenge answered with {@code keyAuthorization}. */
    public static void put(Http01Tokens tokens, String token, String keyAuthorization) {
        tokens.put(token, keyAuthorization);
    }
}
