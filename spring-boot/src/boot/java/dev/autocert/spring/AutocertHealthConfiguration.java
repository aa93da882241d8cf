package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import java.time.Clock;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The {@code autocert} health contributor, with Spring Boot 3.5's actuator. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(HealthIndicator.class)
class AutocertHealthConfiguration {

    @Bean
    @ConditionalOnEnabledHealthIndicator("autocert")
    @ConditionalOnMissingBean(name = "autocertHealthIndicator")
    AutocertHealthIndicator autocertHealthIndicator(CertificateStatuses statuses, CertificateManager manager) {
        return new AutocertHealthIndicator(new CertificateHealth(statuses, manager::status, Clock.systemUTC()));
    }
}
