package dev.autocert.store.jdbc;

import dev.autocert.core.StorageSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The URL and properties {@link PostgresStorage} hands the PostgreSQL driver: credentials in their
 * order of precedence, and Autocert's defaults for what the URL does not set.
 *
 * <p>Credentials: the given properties' {@code user} and {@code password} (from
 * {@code autocert.storage-username} and {@code autocert.storage-password}) win over the URL's
 * {@code user=} and {@code password=} parameters, which win over the variables {@code PGUSER} and
 * {@code PGPASSWORD}. With no password anywhere the driver reads {@code ~/.pgpass} itself.
 *
 * <p>Defaults, each overridden by the same parameter in the URL or the given properties:
 * {@link #DEFAULTS}.
 */
final class ConnectionProperties {

    /**
     * Autocert's driver settings: fail a connection attempt after 10 s and a silent server after
     * 60 s (no query of the store takes long; {@code LISTEN} polls more often), let the operating
     * system probe idle connections, and name the application in {@code pg_stat_activity}.
     */
    static final Map<String, String> DEFAULTS = defaults();

    private static final Set<String> CREDENTIALS = Set.of("user", "password");

    private final String url;
    private final Properties properties;
    private final String description;

    private ConnectionProperties(String url, Properties properties, String description) {
        this.url = url;
        this.properties = properties;
        this.description = description;
    }

    private static Map<String, String> defaults() {
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("connectTimeout", "10");
        defaults.put("loginTimeout", "20");
        defaults.put("socketTimeout", "60");
        defaults.put("tcpKeepAlive", "true");
        defaults.put("ApplicationName", "autocert");
        return Map.copyOf(defaults);
    }

    /**
     * @param url a {@code jdbc:postgresql:} URL, accepted by the driver
     * @param given driver properties, such as {@code user} and {@code password}; they win over the URL's
     * @param environment the process's variables, for {@code PGUSER} and {@code PGPASSWORD}
     * @param inUrl what the driver parsed from {@code url} alone
     */
    static ConnectionProperties resolve(String url, Properties given, Map<String, String> environment, Properties inUrl) {
        Properties properties = new Properties();
        DEFAULTS.forEach(properties::setProperty);
        String effectiveUrl = url;
        List<String> removed = new ArrayList<>();
        for (String name : CREDENTIALS) {
            if (given.getProperty(name) != null && inUrl.getProperty(name) != null) {
                removed.add(name); // the settings win: the driver would prefer the URL's
            }
        }
        if (!removed.isEmpty()) {
            effectiveUrl = withoutParameters(url, Set.copyOf(removed));
        }
        // Every given property, the URL's own parameters still winning for all but credentials.
        for (String name : given.stringPropertyNames()) {
            properties.setProperty(name, given.getProperty(name));
        }
        String user = properties.getProperty("user", inUrl.getProperty("user"));
        if (user == null && environment.get("PGUSER") != null && !environment.get("PGUSER").isBlank()) {
            user = environment.get("PGUSER");
            properties.setProperty("user", user);
        }
        if (properties.getProperty("password") == null && inUrl.getProperty("password") == null
                && environment.get("PGPASSWORD") != null) {
            properties.setProperty("password", environment.get("PGPASSWORD"));
        }
        String description = StorageSettings.redact(effectiveUrl) + (user != null ? " (user " + user + ")" : "");
        return new ConnectionProperties(effectiveUrl, properties, description);
    }

    /** {@code url} without the query parameters {@code names}. */
    static String withoutParameters(String url, Set<String> names) {
        int query = url.indexOf('?');
        if (query < 0) {
            return url;
        }
        List<String> kept = new ArrayList<>();
        for (String parameter : url.substring(query + 1).split("&")) {
            int equals = parameter.indexOf('=');
            String name = equals < 0 ? parameter : parameter.substring(0, equals);
            if (!parameter.isEmpty() && !names.contains(name)) {
                kept.add(parameter);
            }
        }
        return url.substring(0, query) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
    }

    /** {@return the URL to connect to; it may hold a password: never logged} */
    String url() {
        return url;
    }

    /** {@return a copy of the driver properties; they may hold a password: never logged} */
    Properties properties() {
        Properties copy = new Properties();
        copy.putAll(properties);
        return copy;
    }

    /** {@return the URL without secrets, and the user, for messages and logs} */
    String description() {
        return description;
    }

    @Override
    public String toString() {
        return description;
    }
}
