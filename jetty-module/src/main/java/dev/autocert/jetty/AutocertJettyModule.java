package dev.autocert.jetty;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.resource.Resource;
import org.eclipse.jetty.xml.ConfigurationProcessor;
import org.eclipse.jetty.xml.ConfigurationProcessorFactory;
import org.eclipse.jetty.xml.XmlConfiguration;
import org.eclipse.jetty.xml.XmlParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code autocert} jetty-home module: reads {@code etc/jetty-autocert.xml}, whose root element
 * is {@code <Autocert/>}, and installs Autocert on the server of {@code etc/jetty.xml} with every
 * {@code autocert.*} property Jetty was given ({@code start.d/autocert.ini}, {@code start.ini},
 * the {@code start.jar} command line, {@code -D} system properties).
 *
 * <p>Jetty finds this class as a {@link ConfigurationProcessorFactory} service. A {@code
 * <Configure>} file can only ask for properties by name, so it could never see a misspelt one;
 * this processor sees them all, and an unknown {@code autocert.*} key is refused with the same
 * "did you mean" message as on every other surface.
 *
 * <p>Differences from {@link AutocertJetty#install} for embedded servers: storage defaults to
 * {@code $JETTY_BASE/autocert}, and relative {@code autocert.storage}, {@code autocert.ca-trust} and
 * {@code autocert.dns-credentials} paths are resolved against {@code $JETTY_BASE}, as Jetty resolves its own key store paths.
 *
 * <p>An invalid setting stops start-up. When Jetty runs as a program ({@code java -jar start.jar},
 * where {@code XmlConfiguration.main} reads the XML), the message is logged once at ERROR and the
 * process exits with status {@value #EXIT_INVALID_SETTING}: start.jar would otherwise print the
 * exception twice, each time wrapped in several reflective stack traces, and then its usage text.
 * Anywhere else (an application running Jetty XML itself) the {@link InvalidSettingException} is
 * thrown to the caller.
 */
public final class AutocertJettyModule implements ConfigurationProcessorFactory {

    /** The root element of {@code etc/jetty-autocert.xml}. */
    static final String ROOT_ELEMENT = "Autocert";
    /** The storage directory under {@code $JETTY_BASE} when {@code autocert.storage} is not set. */
    static final String DEFAULT_STORAGE = "autocert";
    /** The exit status of {@code java -jar start.jar} when a setting is invalid. */
    static final int EXIT_INVALID_SETTING = 1;

    private static final Logger LOG = LoggerFactory.getLogger(AutocertJettyModule.class);
    /** The id {@code etc/jetty.xml} gives the server, as in {@code <Configure id="Server">}. */
    private static final String SERVER_ID = "Server";
    private static final String XML_CONFIGURATION = "org.eclipse.jetty.xml.XmlConfiguration";

    /** For Jetty's {@link java.util.ServiceLoader}; not called by users. */
    public AutocertJettyModule() {
    }

    @Override
    public ConfigurationProcessor getConfigurationProcessor(String dtd, String tag) {
        return ROOT_ELEMENT.equals(tag) ? new Processor() : null;
    }

    /** Reads one {@code <Autocert/>} file and installs Autocert on the server it is given or finds. */
    private static final class Processor implements ConfigurationProcessor {
        private XmlConfiguration configuration;

        @Override
        public void init(Resource resource, XmlParser.Node root, XmlConfiguration configuration) {
            this.configuration = configuration;
        }

        @Override
        public Object configure() {
            Object server = configuration.getIdMap().get(SERVER_ID);
            if (!(server instanceof Server)) {
                throw new IllegalStateException("<" + ROOT_ELEMENT + "/> in " + configuration
                        + " needs the Server of etc/jetty.xml (the server module) to be configured first");
            }
            return configure(server);
        }

        @Override
        public Object configure(Object server) {
            install((Server) server, configuration.getProperties());
            return server;
        }
    }

    /**
     * Installs Autocert on {@code server} with the {@code autocert.*} entries of {@code properties}
     * (every Jetty property, {@code jetty.base} among them).
     *
     * @throws InvalidSettingException naming the setting at fault, when not run by start.jar
     */
    static AutocertJetty install(Server server, Map<String, String> properties) {
        Path jettyBase = Path.of(properties.getOrDefault("jetty.base", System.getProperty("jetty.base", ".")));
        AutocertSettings settings;
        try {
            settings = settings(jettyBase, properties);
        } catch (InvalidSettingException e) {
            throw refuseToStart(e, jettyBase);
        }
        try {
            // Checked again when the server starts; here, the connectors of the ssl and http
            // modules are configured already, and start.jar can still report it in one line.
            if (settings.answersHttp01()) {
                AutocertJetty.checkHttpPort(server, settings.httpPort());
            }
        } catch (IllegalStateException e) {
            throw refuseToStart(e, jettyBase);
        }
        return AutocertJetty.install(server, settings);
    }

    /**
     * The settings from the {@code autocert.*} entries of {@code properties}, other entries
     * ignored. A known setting that is blank means "not set"; an unknown {@code autocert.*} key is
     * an error even when blank.
     */
    static AutocertSettings settings(Path jettyBase, Map<String, ?> properties) {
        // Sorted, so that of several wrong keys the same one is reported at every start.
        Map<String, String> given = new LinkedHashMap<>();
        new TreeMap<>(stringKeys(properties)).forEach((name, value) -> {
            if (!name.startsWith(AutocertSettings.PREFIX)) {
                return;
            }
            String text = value == null ? "" : String.valueOf(value).trim();
            boolean known = AutocertSettings.NAMES.contains(name.substring(AutocertSettings.PREFIX.length()));
            if (!text.isEmpty() || !known) {
                given.put(name, text);
            }
        });
        resolve(given, AutocertSettings.PREFIX + "storage", jettyBase);
        resolve(given, AutocertSettings.PREFIX + "ca-trust", jettyBase);
        resolve(given, AutocertSettings.PREFIX + "dns-credentials", jettyBase);
        resolve(given, AutocertSettings.PREFIX + "vault-token-file", jettyBase);
        resolve(given, AutocertSettings.PREFIX + "vault-secret-id-file", jettyBase);
        resolve(given, AutocertSettings.PREFIX + "vault-ca-cert", jettyBase);
        given.putIfAbsent(AutocertSettings.PREFIX + "storage", jettyBase.resolve(DEFAULT_STORAGE).toString());
        return AutocertSettings.fromProperties(given);
    }

    private static Map<String, Object> stringKeys(Map<String, ?> properties) {
        Map<String, Object> copy = new LinkedHashMap<>();
        properties.forEach((name, value) -> copy.put(String.valueOf(name), value));
        return copy;
    }

    private static void resolve(Map<String, String> properties, String name, Path base) {
        String value = properties.get(name);
        if (value != null && !value.matches("[A-Za-z][A-Za-z0-9+.-]+:.*")) { // a URL (jdbc:, vault:) stays as it is
            try {
                properties.put(name, base.resolve(value).normalize().toString());
            } catch (InvalidPathException e) {
                // left as given: the settings' own check names the setting and the value
            }
        }
    }

    /**
     * Under start.jar, logs {@code e}'s message once and exits; otherwise returns {@code e} for the
     * caller to throw. The message already names the setting, the value and the fix.
     */
    private static RuntimeException refuseToStart(RuntimeException e, Path jettyBase) {
        if (!runByXmlConfigurationMain()) {
            return e;
        }
        LOG.error("Jetty cannot start: {} (autocert.* settings are read from {}, start.ini and the start.jar command line)",
                e.getMessage(), jettyBase.resolve("start.d").resolve("autocert.ini"));
        System.exit(EXIT_INVALID_SETTING);
        return e; // only if exiting was refused
    }

    /** Whether Jetty XML runs as the program's main, as start.jar runs it, in process or forked. */
    private static boolean runByXmlConfigurationMain() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(
                f -> f.getClassName().equals(XML_CONFIGURATION) && f.getMethodName().equals("main")));
    }
}
