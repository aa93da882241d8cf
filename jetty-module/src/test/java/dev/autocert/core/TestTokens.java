package dev.autocert.core;

/**
 * Puts HTTP-01 tokens into {@link Http01Tokens} for the challenge handler's tests, as core's
 * HTTP-01 solver does during an order. In core's package because {@code put} is package-private.
 */
public final class TestTokens {

    private TestTokens() {
    }

    /** {@code tokens} with one challenge open. */
    public static Http01Tokens with(String token, String keyAuthorization) {
        Http01Tokens tokens = new Http01Tokens();
        tokens.put(token, keyAuthorization);
        return tokens;
    }
}
