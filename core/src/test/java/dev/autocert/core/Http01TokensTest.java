package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class Http01TokensTest {

    private static final String TOKEN = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

    @Test
    void answersAKnownTokenUntilRemoved() {
        Http01Tokens tokens = new Http01Tokens();
        tokens.put(TOKEN, TOKEN + ".thumbprint");
        assertEquals(Optional.of(TOKEN + ".thumbprint"), tokens.respond(Http01Tokens.PATH_PREFIX + TOKEN));
        tokens.remove(TOKEN);
        assertEquals(Optional.empty(), tokens.respond(Http01Tokens.PATH_PREFIX + TOKEN));
    }

    @Test
    void refusesMalformedAndForeignPaths() {
        Http01Tokens tokens = new Http01Tokens();
        tokens.put(TOKEN, "ka");
        for (String path : List.of(
                "/", "/index.html", "/.well-known/acme-challenge/", "/.well-known/acme-challenge",
                Http01Tokens.PATH_PREFIX + "..", Http01Tokens.PATH_PREFIX + "../" + TOKEN,
                Http01Tokens.PATH_PREFIX + TOKEN + "/x", Http01Tokens.PATH_PREFIX + "a%2F" + TOKEN,
                Http01Tokens.PATH_PREFIX + TOKEN + "%00", Http01Tokens.PATH_PREFIX + TOKEN + "?x=1",
                Http01Tokens.PATH_PREFIX + "x".repeat(257), Http01Tokens.PATH_PREFIX + "unknown-token")) {
            assertEquals(Optional.empty(), tokens.respond(path), path);
        }
        assertEquals(Optional.empty(), tokens.respond(null));
    }

    @Test
    void recognisesTheChallengePrefixCheaply() {
        assertTrue(Http01Tokens.isChallengePath("/.well-known/acme-challenge/abc"));
        assertFalse(Http01Tokens.isChallengePath("/.well-known/security.txt"));
        assertFalse(Http01Tokens.isChallengePath(null));
    }
}
