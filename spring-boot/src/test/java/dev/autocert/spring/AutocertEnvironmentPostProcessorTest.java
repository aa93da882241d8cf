package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

class AutocertEnvironmentPostProcessorTest {

    private final AutocertEnvironmentPostProcessor processor = new AutocertEnvironmentPostProcessor();

    @Test
    void servesTheAutocertBundleWhenDomainsAreSetAndSslIsNot() {
        StandardEnvironment environment = environment(Map.of("autocert.domains", "example.test"));

        processor.postProcessEnvironment(environment, new SpringApplication());

        assertThat(environment.getProperty("server.ssl.bundle")).isEqualTo("autocert");
        assertThat(environment.getPropertySources().precedenceOf(
                environment.getPropertySources().get(SslDefaults.PROPERTY_SOURCE_NAME)))
                .isEqualTo(environment.getPropertySources().size() - 1);
    }

    @Test
    void doesNothingWithoutDomains() {
        StandardEnvironment environment = environment(Map.of("server.port", "8443"));

        processor.postProcessEnvironment(environment, new SpringApplication());

        assertThat(environment.getProperty("server.ssl.bundle")).isNull();
    }

    @Test
    void leavesTheUsersOwnSslAlone() {
        for (String key : new String[] {"server.ssl.bundle", "server.ssl.key-store", "server.ssl.key-store-type",
            "server.ssl.certificate"}) {
            StandardEnvironment environment = environment(Map.of("autocert.domains", "example.test", key, "mine"));

            processor.postProcessEnvironment(environment, new SpringApplication());

            assertThat(environment.getPropertySources().contains(SslDefaults.PROPERTY_SOURCE_NAME))
                    .as(key).isFalse();
        }
    }

    @Test
    void seesSslSetInTheEnvironmentVariablesForm() {
        StandardEnvironment environment = environment(Map.of("autocert.domains", "example.test"));
        environment.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        Map.of("SERVER_SSL_KEYSTORE", "/etc/keystore.p12")));

        processor.postProcessEnvironment(environment, new SpringApplication());

        assertThat(environment.getProperty("server.ssl.bundle")).isNull();
    }

    @Test
    void isRegisteredForSpringApplications() {
        SpringApplication application = new SpringApplication(Empty.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        try (ConfigurableApplicationContext context = application.run("--autocert.domains=example.test",
                "--spring.autoconfigure.exclude=dev.autocert.spring.AutocertAutoConfiguration")) {
            assertThat(context.getEnvironment().getProperty("server.ssl.bundle")).isEqualTo("autocert");
        }
        try (ConfigurableApplicationContext context = application.run("--autocert.domains=example.test",
                "--server.ssl.bundle=mine", "--spring.autoconfigure.exclude=dev.autocert.spring.AutocertAutoConfiguration")) {
            assertThat(context.getEnvironment().getProperty("server.ssl.bundle")).isEqualTo("mine");
        }
    }

    private static StandardEnvironment environment(Map<String, Object> properties) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("test", properties));
        ConfigurationPropertySources.attach(environment);
        return environment;
    }

    @Configuration(proxyBeanMethods = false)
    static class Empty {
    }
}
