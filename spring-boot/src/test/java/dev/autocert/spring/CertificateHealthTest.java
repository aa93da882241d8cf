package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.ManagedCertificate;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateHealthTest {

    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    private static final ManagedCertificate EXAMPLE = new ManagedCertificate("example.test", List.of("example.test"));

    private final CertificateStatuses statuses = new CertificateStatuses(List.of(EXAMPLE));
    private final AutocertHealthIndicator indicator = new AutocertHealthIndicator(
            new CertificateHealth(statuses, List::of, Clock.fixed(NOW, ZoneOffset.UTC)));

    @Test
    void upWithAValidCertificate() throws Exception {
        CertifiedKey key = TestCertificates.issue(NOW.minus(Duration.ofDays(10)), NOW.plus(Duration.ofDays(80)), "example.test");
        statuses.onEvent(event(CertificateEvent.Type.OBTAINED, key, null));

        BootTest.BootHealth health = BootTest.health(indicator);

        assertThat(health.status()).isEqualTo("UP");
        assertThat(details(health)).containsEntry("notAfter", key.notAfter().toString()).containsEntry("placeholder", false)
                .containsEntry("serial", key.serial()).containsEntry("lastEvent", "OBTAINED");
    }

    @Test
    void upWhileAPlaceholderServes(@TempDir Path storage) {
        CertificateManager manager = CertificateManager.builder(AutocertSettings.builder().domains("example.test")
                .ca("https://localhost:9/dir").storage(storage).build()).listener(statuses).build();
        manager.load(); // publishes a placeholder, without the network

        BootTest.BootHealth health = BootTest.health(indicator);

        assertThat(health.status()).isEqualTo("UP");
        assertThat(details(health)).containsEntry("placeholder", true).containsEntry("lastEvent", "PLACEHOLDER");
        manager.stop();
    }

    @Test
    void namesTheNamesStillWaitingForACertificateAndWhy(@TempDir Path storage) {
        CertificateManager manager = CertificateManager.builder(AutocertSettings.builder().domains("example.test")
                .ca("https://localhost:9/dir").storage(storage).build()).listener(statuses).build();
        manager.load();
        AutocertHealthIndicator engineAware = new AutocertHealthIndicator(
                new CertificateHealth(statuses, manager::status, Clock.fixed(NOW, ZoneOffset.UTC)));

        BootTest.BootHealth health = BootTest.health(engineAware);

        assertThat(details(health)).containsEntry("waiting", List.of("example.test"))
                .containsEntry("pending", "no certificate has been issued yet");
        manager.stop();
    }

    @Test
    void downWhenTheCertificateExpired() throws Exception {
        CertifiedKey key = TestCertificates.issue(NOW.minus(Duration.ofDays(90)), NOW.minusSeconds(1), "example.test");
        statuses.onEvent(event(CertificateEvent.Type.LOADED, key, null));

        BootTest.BootHealth health = BootTest.health(indicator);

        assertThat(health.status()).isEqualTo("DOWN");
        assertThat(details(health)).containsEntry("problem", "expired");
    }

    @Test
    void downWhenRenewalKeepsFailingNearExpiry() throws Exception {
        CertifiedKey key = TestCertificates.issue(NOW.minus(Duration.ofDays(85)), NOW.plus(Duration.ofDays(5)), "example.test");
        AutocertException cause = new AutocertException("The CA refused: rate limited");
        statuses.onEvent(event(CertificateEvent.Type.FAILED, key, cause));
        statuses.onEvent(event(CertificateEvent.Type.EXPIRING, key, cause));

        BootTest.BootHealth health = BootTest.health(indicator);

        assertThat(health.status()).isEqualTo("DOWN");
        assertThat(details(health)).containsEntry("lastEvent", "EXPIRING").containsEntry("error", "The CA refused: rate limited")
                .containsEntry("failures", 3).containsKey("nextAttempt");
    }

    @Test
    void upAgainOnceRenewed() throws Exception {
        CertifiedKey old = TestCertificates.issue(NOW.minus(Duration.ofDays(85)), NOW.plus(Duration.ofDays(5)), "example.test");
        statuses.onEvent(event(CertificateEvent.Type.EXPIRING, old, new AutocertException("down")));
        CertifiedKey renewed = TestCertificates.issue(NOW, NOW.plus(Duration.ofDays(90)), "example.test");
        statuses.onEvent(event(CertificateEvent.Type.RENEWED, renewed, null));

        assertThat(BootTest.health(indicator).status()).isEqualTo("UP");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> details(BootTest.BootHealth health) {
        return (Map<String, Object>) health.details().get("example.test");
    }

    static CertificateEvent event(CertificateEvent.Type type, CertifiedKey key, AutocertException cause) {
        boolean failed = cause != null;
        return new CertificateEvent(type, key.name(), key, List.of(key), Optional.ofNullable(cause), failed ? 3 : 0,
                failed ? Optional.of(NOW.plus(Duration.ofHours(6))) : Optional.empty(), NOW);
    }
}
