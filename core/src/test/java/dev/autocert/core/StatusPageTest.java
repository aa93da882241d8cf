package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The status page's JSON and its UP/DOWN rule: expired, or failing with under a tenth of the lifetime left. */
class StatusPageTest {

    private static final Instant NOW = Instant.now();

    private static CertificateStatus status(CertifiedKey served, int failures, Optional<String> error) {
        return new CertificateStatus(served.name(), served.names(), served, List.of(), Optional.empty(),
                Optional.of(NOW.plus(Duration.ofDays(1))), Optional.of("lifetime-ratio"), failures, error,
                Optional.of(NOW.plusSeconds(60)));
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
        assertFalse(status(placeholder, 5, Optional.of("x")).expiring(nearTheEnd), "a placeholder waiting is not expiring");

        String json = StatusPage.json(List.of(failing), nearTheEnd);
        assertTrue(json.startsWith("{\"status\":\"DOWN\""), json);
        assertTrue(json.contains("\"lastError\":\"the CA said \\\"no\\\"\\nagain\""), json);
        assertTrue(json.contains("\"expiring\":true"), json);
        assertFalse(StatusPage.healthy(List.of(failing), nearTheEnd));
    }
}
