package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The status page's JSON and its UP/DOWN rule: expired, or failing with under a tenth of the
 * lifetime left, or a placeholder still served after {@code autocert.placeholder-alert}.
 */
class StatusPageTest {

    private static final Instant NOW = Instant.now();

    private static CertificateStatus status(CertifiedKey served, int failures, Optional<String> error) {
        return new CertificateStatus(served.name(), served.names(), served, List.of(), Optional.empty(),
                Optional.of(NOW.plus(Duration.ofDays(1))), Optional.of("lifetime-ratio"), failures, error,
                Optional.of(NOW.plusSeconds(60)), Optional.empty());
    }

    /** A CA-issued-like certificate (not a placeholder) valid from {@code notBefore} for the placeholder's lifetime. */
    private static CertifiedKey real(String name) {
        return LineagesTest.real(Placeholders.create(name, List.of(name), NOW));
    }

    @Test
    void describesEachCertificateWithoutSecrets() {
        CertifiedKey served = real("shop.example.test");
        String json = StatusPage.json(List.of(status(served, 0, Optional.empty())), NOW);

        assertTrue(json.startsWith("{\"status\":\"UP\",\"time\":\"" + NOW + "\",\"certificates\":[{\"name\":\"shop.example.test\","), json);
        assertTrue(json.contains("\"serial\":\"" + served.serial() + "\""), json);
        assertTrue(json.contains("\"notAfter\":\"" + served.notAfter() + "\""), json);
        assertTrue(json.contains("\"renewalRule\":\"lifetime-ratio\",\"waiting\":[],\"pending\":null,\"failures\":0,\"lastError\":null"), json);
        assertTrue(json.endsWith("\"expiring\":false}]}"), json);
        assertFalse(json.contains("PRIVATE"), json);
    }

    @Test
    void isDownWhileACertificateIsFailingNearItsEndOrExpired() {
        CertifiedKey served = real("a.example.test");
        Duration lifetime = Duration.between(served.notBefore(), served.notAfter());
        Instant nearTheEnd = served.notAfter().minus(lifetime.dividedBy(20));
        CertificateStatus failing = status(served, 3, Optional.of("the CA said \"no\"\nagain"));

        assertFalse(failing.expiring(served.notBefore().plus(lifetime.dividedBy(2))), "half its life left: a failure is no alarm yet");
        assertTrue(failing.expiring(nearTheEnd));
        assertFalse(status(served, 0, Optional.empty()).expiring(nearTheEnd), "near its end but renewing fine");
        assertTrue(status(served, 0, Optional.empty()).expiring(served.notAfter()), "expired");
        CertifiedKey placeholder = Placeholders.create("b.example.test", List.of("b.example.test"), NOW);
        assertFalse(status(placeholder, 5, Optional.of("x")).expiring(nearTheEnd), "a placeholder without an alert time is not expiring");

        String json = StatusPage.json(List.of(failing), nearTheEnd);
        assertTrue(json.startsWith("{\"status\":\"DOWN\""), json);
        assertTrue(json.contains("\"lastError\":\"the CA said \\\"no\\\"\\nagain\""), json);
        assertTrue(json.contains("\"expiring\":true"), json);
        assertFalse(StatusPage.healthy(List.of(failing), nearTheEnd));
    }

    @Test
    void aPlaceholderIsExpiringFromItsAlertTimeOn() {
        CertifiedKey placeholder = Placeholders.create("wait.example.test", List.of("wait.example.test"), NOW);
        Instant alertAt = NOW.plus(Duration.ofHours(1));
        CertificateStatus waiting = new CertificateStatus(placeholder.name(), placeholder.names(), placeholder, placeholder.names(),
                Optional.of("no certificate has been issued yet"), Optional.empty(), Optional.empty(), 0, Optional.empty(),
                Optional.of(NOW.plusSeconds(60)), Optional.of(alertAt));

        assertFalse(waiting.expiring(alertAt.minusSeconds(1)), "younger than the alert: the first certificate is on its way");
        assertTrue(waiting.expiring(alertAt));
        assertTrue(StatusPage.healthy(List.of(waiting), alertAt.minusSeconds(1)));
        String json = StatusPage.json(List.of(waiting), alertAt.plusSeconds(1));
        assertTrue(json.startsWith("{\"status\":\"DOWN\""), json);
        assertTrue(json.contains("\"placeholder\":true"), json);
        assertTrue(json.endsWith("\"expiring\":true}]}"), json);
    }

    @Test
    void onlyTheClientsOfStatusAllowMayReadIt() throws Exception {
        java.net.InetAddress loopback = java.net.InetAddress.getByName("127.0.0.1");
        java.net.InetAddress v6loopback = java.net.InetAddress.getByName("::1");
        java.net.InetAddress inside = java.net.InetAddress.getByName("10.1.2.3");
        java.net.InetAddress outside = java.net.InetAddress.getByName("192.0.2.7");
        List<String> byDefault = AutocertSettings.fromProperties(java.util.Map.of("autocert.domains", "a.example.test",
                "autocert.agree-tos", "true")).statusAllow();
        assertTrue(StatusPage.allowed(byDefault, loopback) && StatusPage.allowed(byDefault, v6loopback));
        assertFalse(StatusPage.allowed(byDefault, inside), "this host only, by default");

        List<String> network = StatusPage.parseAllow("autocert.status-allow", "10.0.0.0/8, 2001:db8::/32");
        assertTrue(StatusPage.allowed(network, inside));
        assertTrue(StatusPage.allowed(network, java.net.InetAddress.getByName("2001:db8::1")));
        assertFalse(StatusPage.allowed(network, outside));
        assertFalse(StatusPage.allowed(network, loopback));
        assertTrue(StatusPage.allowed(StatusPage.parseAllow("autocert.status-allow", "*"), outside));
        for (String bad : List.of("example.com", "10.0.0.0/33", "10.0.0.0/x", " , ")) {
            InvalidSettingException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidSettingException.class,
                    () -> StatusPage.parseAllow("autocert.status-allow", bad), bad);
            assertEquals("autocert.status-allow", e.setting());
        }
    }

    @Test
    void hstsTakesOnOffOrAValueInAnyOrderAndRefusesControlCharacters() {
        java.util.function.Function<String, Optional<String>> hsts = v -> AutocertSettings.fromProperties(java.util.Map.of(
                "autocert.domains", "a.example.test", "autocert.agree-tos", "true", "autocert.hsts", v)).hsts();
        assertEquals(Optional.of("max-age=31536000"), hsts.apply("on"));
        assertEquals(Optional.empty(), hsts.apply("off"));
        assertEquals(Optional.of("max-age=63072000; preload; includeSubDomains"), hsts.apply("max-age=63072000; preload; includeSubDomains"));
        for (String bad : List.of("max-age=1\r\n; includeSubDomains", "includeSubDomains", "max-age=1; max-age=2", "maxage=1")) {
            InvalidSettingException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidSettingException.class, () -> hsts.apply(bad), bad);
            assertEquals("autocert.hsts", e.setting());
            assertFalse(e.getMessage().contains("\r") || e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
