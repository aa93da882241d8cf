package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import io.undertow.Undertow;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * Autocert on Spring Boot 3.5's Undertow (Spring Boot 4 has no Undertow): {@link
 * AutocertUndertowCustomizer}, next to what {@link AutocertAutoConfiguration} sets up.
 */
@AutoConfiguration(after = AutocertAutoConfiguration.class)
@ConditionalOnProperty(prefix = "autocert", name = "domains")
@ConditionalOnClass(Undertow.class)
@ConditionalOnWebApplication
public class AutocertUndertowAutoConfiguration {

    @Bean
    AutocertUndertowCustomizer autocertUndertowCustomizer(AutocertLifecycle lifecycle, CertificateManager manager,
            ApplicationContext context) {
        return new AutocertUndertowCustomizer(lifecycle, manager, context);
    }
}
