package dev.autocert.spring;

import java.util.List;
import java.util.Map;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Makes the web server serve Autocert's certificates by default: when {@code autocert.domains}
 * is set and the application configures no SSL of its own (no {@code server.ssl.bundle},
 * {@code server.ssl.key-store}, {@code server.ssl.key-store-type} or {@code server.ssl.certificate}),
 * adds {@code server.ssl.bundle=autocert} as the lowest-precedence property, so that any value
 * the user sets anywhere wins. Applied by each Spring Boot version's {@code
 * AutocertEnvironmentPostProcessor}, registered in {@code META-INF/spring.factories}, after the
 * application's config files are loaded.
 */
final class SslDefaults {

    /** The name of the property source this adds, last in the environment. */
    static final String PROPERTY_SOURCE_NAME = "autocertSslDefaults";

    /** Any of these means the user configured the server's SSL themselves. */
    private static final List<String> USER_SSL = List.of("server.ssl.bundle", "server.ssl.key-store",
            "server.ssl.key-store-type", "server.ssl.certificate");

    private SslDefaults() {
    }

    static void apply(ConfigurableEnvironment environment) {
        String domains = environment.getProperty("autocert.domains");
        if (domains == null || domains.isBlank() || environment.getPropertySources().contains(PROPERTY_SOURCE_NAME)) {
            return;
        }
        for (String key : USER_SSL) {
            if (environment.containsProperty(key)) {
                return;
            }
        }
        environment.getPropertySources().addLast(new MapPropertySource(PROPERTY_SOURCE_NAME,
                Map.of("server.ssl.bundle", AutocertSslBundle.NAME)));
    }
}
