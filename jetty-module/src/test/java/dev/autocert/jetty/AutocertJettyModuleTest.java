package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.KeyType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.xml.XmlConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jetty-home module: the settings it reads, and its files, which must name every setting. */
class AutocertJettyModuleTest {

    private static final Path JETTY_BASE_FILES = Path.of("src/main/jetty-base");

    @TempDir
    Path jettyBase;

    @Test
    void storesUnderTheJettyBaseByDefault() {
        AutocertSettings settings = AutocertJettyModule.settings(jettyBase,
                Map.of("autocert.domains", "example.com", "autocert.agree-tos", "true"));

        assertEquals(Optional.of(jettyBase.resolve("autocert")), settings.storage());
    }

    @Test
    void resolvesRelativePathsAgainstTheJettyBase() throws IOException {
        Path pem = Files.writeString(jettyBase.resolve("ca.pem"), PemFixture.CERTIFICATE);
        AutocertSettings settings = AutocertJettyModule.settings(jettyBase, Map.of(
                "autocert.domains", "example.com", "autocert.storage", "state/certs", "autocert.ca-trust", "ca.pem",
                "autocert.ca", "https://ca.example.test/dir"));

        assertEquals(Optional.of(jettyBase.resolve("state/certs")), settings.storage());
        assertEquals(Optional.of(pem), settings.caTrust());
    }

    @Test
    void treatsUnsetAndBlankPropertiesAsNotSet() {
        Map<String, Object> properties = new HashMap<>();
        properties.put("autocert.domains", " example.com ");
        properties.put("autocert.email", null); // a <Property> the ini does not set
        properties.put("autocert.http-port", "  ");
        properties.put("autocert.agree-tos", "true");

        AutocertSettings settings = AutocertJettyModule.settings(jettyBase, properties);

        assertEquals(80, settings.httpPort());
        assertEquals(Optional.empty(), settings.email());
    }

    @Test
    void namesTheSettingAtFault() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> AutocertJettyModule.settings(jettyBase, Map.of("autocert.domains", "example.com", "autocert.key-type", "ec256")));

        assertEquals("autocert.key-type", e.setting());
    }

    @Test
    void refusesAnUnknownKeyNamingTheClosestSetting() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> AutocertJettyModule.settings(jettyBase, Map.of("autocert.domain", "example.com", "autocert.agree-tos", "true")));

        assertEquals("autocert.domain: unknown setting; did you mean autocert.domains?", e.getMessage());
    }

    @Test
    void refusesAnUnknownKeyEvenWhenBlank() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> AutocertJettyModule.settings(jettyBase, Map.of("autocert.domains", "example.com", "autocert.emial", "")));

        assertEquals("autocert.emial", e.setting());
    }

    @Test
    void theXmlInstallsAutocertWithEveryAutocertPropertyJettyHas() throws Exception {
        Server server = new Server();
        XmlConfiguration xml = jettyAutocertXml(server, Map.of("jetty.base", jettyBase.toString(),
                "autocert.domains", "example.com", "autocert.agree-tos", "true", "autocert.key-type", "ec-p384",
                "jetty.ssl.port", "8443"));

        assertSame(server, xml.configure());

        AutocertSettings settings = server.getBean(AutocertJetty.class).settings();
        assertEquals(KeyType.EC_P384, settings.keyType());
        assertEquals(Optional.of(jettyBase.resolve("autocert")), settings.storage());
    }

    @Test
    void theXmlRefusesAMisspeltKey() throws Exception {
        Server server = new Server();
        XmlConfiguration xml = jettyAutocertXml(server, Map.of("jetty.base", jettyBase.toString(),
                "autocert.domain", "example.com", "autocert.agree-tos", "true"));

        // Not run by start.jar: the caller gets the exception (start.jar logs it once and exits).
        InvalidSettingException e = assertThrows(InvalidSettingException.class, xml::configure);

        assertEquals("autocert.domain: unknown setting; did you mean autocert.domains?", e.getMessage());
        assertEquals(null, server.getBean(AutocertJetty.class));
    }

    @Test
    void theXmlRefusesTheHttpPortOfAnHttpsConnector() throws Exception {
        Server server = TestServers.httpsServer();
        ((ServerConnector) server.getConnectors()[0]).setPort(8443);
        XmlConfiguration xml = jettyAutocertXml(server, Map.of("jetty.base", jettyBase.toString(),
                "autocert.domains", "example.com", "autocert.agree-tos", "true", "autocert.http-port", "8443"));

        IllegalStateException e = assertThrows(IllegalStateException.class, xml::configure);

        assertTrue(e.getMessage().startsWith("autocert.http-port is 8443, where an HTTPS connector listens"), e.getMessage());
    }

    /** etc/jetty-autocert.xml as start.jar reads it: after etc/jetty.xml, with Jetty's properties. */
    private static XmlConfiguration jettyAutocertXml(Server server, Map<String, String> properties) throws Exception {
        XmlConfiguration xml = new XmlConfiguration(ResourceFactory.root().newResource(JETTY_BASE_FILES.resolve("etc/jetty-autocert.xml")));
        xml.getIdMap().put("Server", server);
        xml.getProperties().putAll(properties);
        return xml;
    }

    @Test
    void theIniTemplateListsEverySettingCommentedOut() throws IOException {
        String module = Files.readString(JETTY_BASE_FILES.resolve("modules/autocert.mod"));
        String template = module.substring(module.indexOf("[ini-template]"));

        assertEquals(expected(), matches(template, "(?m)^# (autocert\\.[a-z-]+)="));
        assertTrue(matches(template, "(?m)^(autocert\\.[a-z-]+)=").isEmpty(), "nothing set by default");
    }

    private static Set<String> expected() {
        Set<String> names = new LinkedHashSet<>();
        AutocertSettings.NAMES.forEach(n -> names.add(AutocertSettings.PREFIX + n));
        return names;
    }

    private static Set<String> matches(String text, String regex) {
        Set<String> found = new LinkedHashSet<>();
        Matcher matcher = Pattern.compile(regex).matcher(text);
        while (matcher.find()) {
            found.add(matcher.group(1));
        }
        return found;
    }

    /** A real certificate in PEM, for the ca-trust check. */
    private static final class PemFixture {
        static final String CERTIFICATE = certificate();

        private static String certificate() {
            try {
                var generator = java.security.KeyPairGenerator.getInstance("EC");
                generator.initialize(256);
                var keys = generator.generateKeyPair();
                var name = new org.bouncycastle.asn1.x500.X500Name("CN=Test CA");
                var now = java.time.Instant.now();
                var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.ONE,
                        java.util.Date.from(now), java.util.Date.from(now.plusSeconds(3600)), name, keys.getPublic());
                var signer = new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
                byte[] der = builder.build(signer).getEncoded();
                return "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                        + "\n-----END CERTIFICATE-----\n";
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

}
