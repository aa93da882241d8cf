package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.JmxProbe;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;

/**
 * What a real server's JMX shows of its engine after the engine's first order, read over remote
 * JMX by the jetty-home and Tomcat distribution tests (this class comes to them in core's
 * test-jar): the MXBean's name, the served certificate's expiry, the counts, health and status.
 */
public final class EngineMBeanCheck {

    private EngineMBeanCheck() {
    }

    /**
     * Asserts the engine's MXBean after exactly one order, for the one certificate {@code name},
     * which the server now serves as {@code issued}.
     *
     * @param ari whether the CA offers renewal information, which the engine then asks for
     */
    public static void afterFirstOrder(JmxProbe.Connection jmx, String name, X509Certificate issued, boolean ari) throws Exception {
        ObjectName manager = jmx.one("dev.autocert:type=CertificateManager,*");
        assertEquals(new ObjectName("dev.autocert:type=CertificateManager,name=\"" + name + "\""), manager,
                "named after the first certificate, as docs/operations.md says");

        Instant notAfter = issued.getNotAfter().toInstant();
        Instant before = Instant.now();
        Map<String, Long> expiry = jmx.longs(manager, "SecondsUntilExpiry");
        Instant after = Instant.now();
        assertEquals(List.of(name), List.copyOf(expiry.keySet()));
        long seconds = expiry.get(name);
        assertTrue(seconds > 0, "the served certificate is valid: " + seconds);
        assertTrue(seconds >= Duration.between(after, notAfter).toSeconds() - 1
                && seconds <= Duration.between(before, notAfter).toSeconds() + 1,
                "the served certificate's notAfter " + notAfter + " is " + seconds + "s away");

        assertEquals(1L, jmx.attribute(manager, "Obtained"), "one order, for the one certificate");
        assertEquals(0L, jmx.attribute(manager, "Renewed"));
        assertEquals(0L, jmx.attribute(manager, "Failed"));
        assertEquals(Map.of(), jmx.longs(manager, "FailuresByCause"));
        long answered = (Long) jmx.attribute(manager, "ChallengeRequestsAnswered");
        assertTrue(answered >= 1, "the CA's HTTP-01 validation went through the server's challenge answer: " + answered);
        if (ari) {
            jmx.await(manager, "AriChecks", checks -> (Long) checks >= 1, Duration.ofSeconds(30)); // asked right after the order
        } else {
            assertEquals(0L, jmx.attribute(manager, "AriChecks"), "a CA without renewalInfo is never asked");
        }
        assertEquals(0L, jmx.attribute(manager, "AriFailures"));
        assertEquals(Boolean.TRUE, jmx.attribute(manager, "Healthy"));
        assertArrayEquals(new String[0], (String[]) jmx.attribute(manager, "Expiring"), "no certificate expiring");
        String status = (String) jmx.attribute(manager, "Status");
        assertTrue(status.contains("\"serial\":\"" + issued.getSerialNumber().toString(16) + "\""), status);
    }
}
