package dev.autocert.spring;

import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * The {@code autocert} health contributor: {@code DOWN} when a certificate served has expired,
 * when renewal keeps failing with under a tenth of its lifetime left, or when the self-signed
 * placeholder is still served {@code autocert.placeholder-alert} after start; {@code UP}
 * otherwise. Details by certificate name: {@code notAfter}, {@code placeholder}, {@code serial},
 * {@code lastEvent} with its time, and after a failure {@code failures}, {@code error} and
 * {@code nextAttempt}. Thread-safe.
 */
public final class AutocertHealthIndicator extends AbstractHealthIndicator {

    private final CertificateHealth health;

    AutocertHealthIndicator(CertificateHealth health) {
        super("Autocert health check failed");
        this.health = health;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        CertificateHealth.Report report = health.check();
        builder.withDetails(report.details());
        if (report.up()) {
            builder.up();
        } else {
            builder.down();
        }
    }
}
