package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.URI;
import java.net.URL;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.toolbox.JSON;

/** Failures say what an operator looks for, never only "Network error". */
class AcmeFailuresTest {

    private static final URI LETSENCRYPT = URI.create("https://acme-v02.api.letsencrypt.org/directory");

    @Test
    void namesTheHostWhoseDnsLookupFailed() {
        AutocertException e = AcmeFailures.translate("Order failed", LETSENCRYPT,
                new AcmeNetworkException(new java.io.IOException("wrapped", new UnknownHostException("acme-v02.api.letsencrypt.org"))));
        assertEquals("Order failed: DNS lookup of acme-v02.api.letsencrypt.org failed", e.getMessage());
        assertInstanceOf(AcmeFailures.CaUnreachableException.class, e, "an outage: the next CA may be tried");
    }

    @Test
    void namesTheHostAndPortThatRefusedTheConnection() {
        AutocertException e = AcmeFailures.translate("Order failed", LETSENCRYPT, new AcmeNetworkException(new ConnectException()));
        assertEquals("Order failed: connection refused by acme-v02.api.letsencrypt.org:443", e.getMessage());
        AutocertException timeout = AcmeFailures.translate("Order failed", URI.create("https://ca.example:14000/dir"),
                new AcmeNetworkException(new HttpConnectTimeoutException("HTTP connect timed out")));
        assertEquals("Order failed: connecting to ca.example:14000 timed out", timeout.getMessage());
    }

    @Test
    void aRateLimitSaysSoAndWhenToRetry() throws Exception {
        Instant after = Instant.parse("2026-12-02T10:00:00Z");
        Problem problem = new Problem(JSON.parse("{\"type\":\"urn:ietf:params:acme:error:rateLimited\","
                + "\"detail\":\"too many certificates (5) already issued for this exact set of identifiers\"}"),
                new URL("https://acme-v02.api.letsencrypt.org/acme/new-order"));
        AutocertException e = AcmeFailures.translate("Order for example.com failed", LETSENCRYPT,
                new AcmeRateLimitedException(problem, after, List.of()));
        assertTrue(e.getMessage().startsWith("Order for example.com failed: the CA refused it: rateLimited (too many certificates"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("; retry after 2026-12-02T10:00:00Z"), e.getMessage());
        assertEquals(after, e.retryAfter().orElseThrow());
    }
}
