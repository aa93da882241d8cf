package dev.autocert.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;

/** Spring Boot 4's hook for {@link SslDefaults}: {@code server.ssl.bundle=autocert} unless the application set its own SSL. */
final class AutocertEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        SslDefaults.apply(environment);
    }

    @Override
    public int getOrder() {
        // After ConfigDataEnvironmentPostProcessor, so that application.properties is seen.
        return Ordered.LOWEST_PRECEDENCE;
    }
}
