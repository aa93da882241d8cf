package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertSettings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.server.Server;

/**
 * Installs Autocert from the {@code autocert} jetty-home module: {@code etc/jetty-autocert.xml}
 * calls {@link #install} with the {@code autocert.*} properties of {@code start.d/autocert.ini}.
 *
 * <p>Differences from {@link AutocertJetty#install} for embedded servers: storage defaults to
 * {@code $JETTY_BASE/autocert}, and relative {@code autocert.storage} and {@code autocert.ca-trust}
 * paths are resolved against {@code $JETTY_BASE}, as Jetty resolves its own key store paths.
 */
public final class AutocertJettyModule {

    /** The storage directory under {@code $JETTY_BASE} when {@code autocert.storage} is not set. */
    static final String DEFAULT_STORAGE = "autocert";

    private AutocertJettyModule() {
    }

    /**
     * Reads the settings and installs Autocert on {@code server}.
     *
     * @param jettyBase  the {@code jetty.base} directory
     * @param properties {@code autocert.*} names to values; null or blank values mean "not set"
     * @return the installed component
     * @throws dev.autocert.core.InvalidSettingException naming the setting at fault, which stops Jetty's start
     */
    public static AutocertJetty install(Server server, String jettyBase, Map<String, ?> properties) {
        requireNonNull(server, "server");
        requireNonNull(properties, "properties");
        return AutocertJetty.install(server, settings(Path.of(requireNonNull(jettyBase, "jettyBase")), properties));
    }

    static AutocertSettings settings(Path jettyBase, Map<String, ?> properties) {
        Map<String, String> given = new LinkedHashMap<>();
        properties.forEach((name, value) -> {
            if (value != null && !String.valueOf(value).isBlank()) {
                given.put(name, String.valueOf(value).trim());
            }
        });
        resolve(given, AutocertSettings.PREFIX + "storage", jettyBase);
        resolve(given, AutocertSettings.PREFIX + "ca-trust", jettyBase);
        given.putIfAbsent(AutocertSettings.PREFIX + "storage", jettyBase.resolve(DEFAULT_STORAGE).toString());
        return AutocertSettings.fromProperties(given);
    }

    private static void resolve(Map<String, String> properties, String name, Path base) {
        String value = properties.get(name);
        if (value != null && !value.startsWith("jdbc:")) {
            try {
                properties.put(name, base.resolve(value).normalize().toString());
            } catch (java.nio.file.InvalidPathException e) {
                // left as given: the settings' own check names the setting and the value
            }
        }
    }
}
