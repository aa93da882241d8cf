package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.Http01Tokens;
import org.junit.jupiter.api.Test;

/** What Autocert's own plain HTTP listeners answer; a challenge answered for a real CA is in the WebFlux and Undertow tests. */
class PlainHttpAnswersTest {

    private final PlainHttpAnswers answers = new PlainHttpAnswers(new Http01Tokens(), () -> 8443);

    @Test
    void redirectsEverythingButChallengesToTheSameUrlOverHttps() {
        PlainHttpAnswers.Answer redirect = answers.answer("GET", "/account/orders", "page=2", "www.example.test");
        assertThat(redirect.status()).isEqualTo(308);
        assertThat(redirect.location()).isEqualTo("https://www.example.test:8443/account/orders?page=2");
        assertThat(redirect.body()).isEmpty();
        assertThat(answers.answer("POST", "/form", null, "www.example.test:80").location())
                .as("the plain port dropped, a POST redirected as a POST (308)").isEqualTo("https://www.example.test:8443/form");
        assertThat(answers.answer("GET", "/", null, "[2001:db8::1]:8080").location()).isEqualTo("https://[2001:db8::1]:8443/");
        assertThat(answers.answer("GET", "/a%20b", null, "192.0.2.7").location()).as("the path as sent")
                .isEqualTo("https://192.0.2.7:8443/a%20b");
        assertThat(new PlainHttpAnswers(new Http01Tokens(), () -> 443).answer("GET", "/x", null, "example.test").location())
                .as("443 left out").isEqualTo("https://example.test/x");
    }

    @Test
    void aMissingOrMalformedHostGetsA400AndNoRedirect() {
        for (String host : new String[] {null, "", "evil.test/@other", "a b", "example.test:port", "[::1", "exa\r\nmple"}) {
            PlainHttpAnswers.Answer answer = answers.answer("GET", "/", null, host);
            assertThat(answer.status()).as("Host %s", host).isEqualTo(400);
            assertThat(answer.location()).isNull();
        }
    }

    @Test
    void challengesAreAnsweredOrGetAPlain404NeverARedirect() {
        for (String method : new String[] {"GET", "HEAD"}) {
            PlainHttpAnswers.Answer unknown = answers.answer(method, "/.well-known/acme-challenge/notAToken", null, "example.test");
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(unknown.location()).isNull();
            assertThat(unknown.body()).isEmpty();
        }
        assertThat(answers.answer("GET", "/.well-known/acme-challenge/..%2F..%2Fetc%2Fpasswd", null, "example.test").status())
                .isEqualTo(404);
        assertThat(answers.answer("GET", "/.well-known/acme-challenge/", null, null).status()).as("no Host needed").isEqualTo(404);
        PlainHttpAnswers.Answer post = answers.answer("POST", "/.well-known/acme-challenge/abc", null, "example.test");
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.allow()).isEqualTo("GET, HEAD");
    }
}
