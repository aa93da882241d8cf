package dev.autocert.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Credentials' precedence and Autocert's driver defaults. */
class ConnectionPropertiesTest {

    private static Properties given(String user, String password) {
        Properties properties = new Properties();
        if (user != null) {
            properties.setProperty("user", user);
        }
        if (password != null) {
            properties.setProperty("password", password);
        }
        return properties;
    }

    /** What the driver would connect with: the URL's parameters over the properties. */
    private static Properties effective(ConnectionProperties resolved) {
        return org.postgresql.Driver.parseURL(resolved.url(), resolved.properties());
    }

    @Test
    void theSettingsWinOverTheUrlWhichWinsOverTheEnvironment() {
        String url = "jdbc:postgresql://db/autocert?user=url-user&password=url-pw&sslmode=require";
        Map<String, String> env = Map.of("PGUSER", "env-user", "PGPASSWORD", "env-pw");

        Properties fromSettings = effective(PostgresStorage.resolve(url, given("set-user", "set-pw"), env));
        assertEquals("set-user", fromSettings.getProperty("user"));
        assertEquals("set-pw", fromSettings.getProperty("password"));
        assertEquals("require", fromSettings.getProperty("sslmode"), "other parameters stay");

        Properties fromUrl = effective(PostgresStorage.resolve(url, given(null, null), env));
        assertEquals("url-user", fromUrl.getProperty("user"));
        assertEquals("url-pw", fromUrl.getProperty("password"));

        Properties fromEnv = effective(PostgresStorage.resolve("jdbc:postgresql://db/autocert", given(null, null), env));
        assertEquals("env-user", fromEnv.getProperty("user"));
        assertEquals("env-pw", fromEnv.getProperty("password"));

        Properties none = effective(PostgresStorage.resolve("jdbc:postgresql://db/autocert", given(null, null), Map.of()));
        assertNull(none.getProperty("password"), "left to ~/.pgpass");
    }

    @Test
    void addsDefaultsTheUrlMayOverride() {
        Properties defaults = effective(PostgresStorage.resolve("jdbc:postgresql://db/autocert", given("u", "p"), Map.of()));
        assertEquals("autocert", defaults.getProperty("ApplicationName"));
        assertEquals("10", defaults.getProperty("connectTimeout"));
        assertEquals("60", defaults.getProperty("socketTimeout"));
        Properties overridden = effective(PostgresStorage.resolve(
                "jdbc:postgresql://db/autocert?socketTimeout=5&ApplicationName=web", given("u", "p"), Map.of()));
        assertEquals("5", overridden.getProperty("socketTimeout"));
        assertEquals("web", overridden.getProperty("ApplicationName"));
    }

    @Test
    void describesWithoutSecrets() {
        ConnectionProperties resolved = PostgresStorage.resolve("jdbc:postgresql://db/autocert?password=url-pw&user=a",
                given(null, null), Map.of("PGPASSWORD", "env-pw"));
        assertEquals("jdbc:postgresql://db/autocert?password=(hidden)&user=a (user a)", resolved.description());
        assertFalse(resolved.toString().contains("pw"));
    }

    @Test
    void removesParametersByExactName() {
        assertEquals("jdbc:postgresql://h/d?ssl=true&passwordx=1",
                ConnectionProperties.withoutParameters("jdbc:postgresql://h/d?user=a&ssl=true&password=b&passwordx=1",
                        Set.of("user", "password")));
        assertEquals("jdbc:postgresql://h/d", ConnectionProperties.withoutParameters("jdbc:postgresql://h/d?user=a",
                Set.of("user")));
    }
}
