package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class AutocertPropertiesTest {

    private static final Path WORKING_DIRECTORY = Path.of("/srv/app");

    @Test
    void defaultsAreCoresDefaults() {
        AutocertProperties properties = new AutocertProperties();
        properties.setDomains("example.test");
        properties.setAgreeTos(true);

        AutocertSettings fromProperties = properties.toSettings(WORKING_DIRECTORY);
        AutocertSettings fromCore = AutocertSettings.builder().domains("example.test").agreeTos(true)
                .storage(WORKING_DIRECTORY.resolve("autocert")).build();

        assertThat(fromProperties.toString()).isEqualTo(fromCore.toString());
    }

    @Test
    void bindsEverySettingByItsDocumentedName() {
        Map<String, String> source = new HashMap<>();
        source.put("autocert.domains", "example.test,www.example.test;api.example.test");
        source.put("autocert.email", "admin@example.test");
        source.put("autocert.agree-tos", "true");
        source.put("autocert.ca", "https://ca.example.test/dir");
        source.put("autocert.storage", "/var/lib/autocert");
        source.put("autocert.storage-username", "autocert");
        source.put("autocert.storage-password", "s3cret");
        source.put("autocert.vault-token-file", "/run/secrets/vault-token");
        source.put("autocert.vault-role-id", "role-1");
        source.put("autocert.vault-secret-id-file", "/run/secrets/secret-id");
        source.put("autocert.vault-ca-cert", "/etc/ssl/vault-ca.pem");
        source.put("autocert.key-type", "ec-p384");
        source.put("autocert.challenges", "http-01,dns-01");
        source.put("autocert.http-port", "8080");
        source.put("autocert.redirect-port", "443");
        source.put("autocert.dns-provider", "rfc2136");
        source.put("autocert.dns-credentials", "/etc/autocert/rfc2136.ini");
        source.put("autocert.dns-credentials-permissions", "warn");
        source.put("autocert.dns-propagation-timeout", "3m");
        source.put("autocert.dns-polling-interval", "5s");
        source.put("autocert.dns-ttl", "60");
        source.put("autocert.dns-resolvers", "127.0.0.1:5353");
        source.put("autocert.dns-propagation-check", "resolvers");
        source.put("autocert.manual-auth-hook", "/etc/letsencrypt/hooks/auth.sh");
        source.put("autocert.manual-cleanup-hook", "/etc/letsencrypt/hooks/cleanup.sh");
        source.put("autocert.deploy-hook", "systemctl reload nginx");
        source.put("autocert.notify-command", "logger -t autocert");
        source.put("autocert.status-path", "/autocert-status");
        source.put("autocert.status-allow", "127.0.0.1, 10.0.0.0/8");
        source.put("autocert.hsts", "on");
        source.put("autocert.profile", "shortlived");
        source.put("autocert.eab-kid", "kid-1");
        source.put("autocert.eab-hmac-key", "c2VjcmV0LWhtYWMta2V5");
        source.put("autocert.preferred-chain", "Root X2");
        source.put("autocert.startup-wait", "90s");
        source.put("autocert.on-demand", "*.customers.example.test");
        source.put("autocert.on-demand-ask", "http://localhost:5555/check");
        AutocertProperties properties = new Binder(new MapConfigurationPropertySource(source))
                .bind("autocert", AutocertProperties.class).get();

        assertThat(properties.values().keySet()).containsExactlyInAnyOrderElementsOf(
                AutocertSettings.NAMES.stream().filter(n -> !n.equals("ca-trust")).toList());
        AutocertSettings settings = properties.toSettings(WORKING_DIRECTORY);
        assertThat(settings.certificates()).hasSize(2);
        assertThat(settings.storage()).contains(Path.of("/var/lib/autocert"));
        assertThat(settings.httpPort()).isEqualTo(8080);
        assertThat(settings.redirectPort()).hasValue(443);
        assertThat(settings.profile()).contains("shortlived");
        assertThat(settings.eabKid()).contains("kid-1");
        assertThat(settings.preferredChain()).contains("Root X2");
        assertThat(settings.startupWait()).hasSeconds(90);
        assertThat(settings.dns().provider()).contains("rfc2136");
        assertThat(settings.manualAuthHook()).contains("/etc/letsencrypt/hooks/auth.sh");
        assertThat(settings.deployHook()).contains("systemctl reload nginx");
        assertThat(settings.answersHttp01()).as("the hooks answer HTTP-01: no HTTP port of the server's own").isFalse();
        assertThat(settings.dns().credentials()).contains(Path.of("/etc/autocert/rfc2136.ini"));
        assertThat(settings.dns().credentialsStrict()).isFalse();
        assertThat(settings.dns().propagationTimeout()).contains(java.time.Duration.ofMinutes(3));
        assertThat(settings.dns().ttl()).hasValue(60);
        assertThat(settings.dns().resolvers()).containsExactly("127.0.0.1:5353");
        assertThat(settings.dns().propagationCheck()).isEqualTo(dev.autocert.core.DnsSettings.PropagationCheck.RESOLVERS);
    }

    @Test
    void valuesAreCheckedByCore() {
        AutocertProperties properties = new AutocertProperties();
        properties.setDomains("example.test");
        properties.setAgreeTos(true);
        properties.setKeyType("ec256");

        assertThatThrownBy(() -> properties.toSettings(WORKING_DIRECTORY)).isInstanceOf(InvalidSettingException.class)
                .extracting(e -> ((InvalidSettingException) e).setting()).isEqualTo("autocert.key-type");
    }

    @Test
    void everySettingIsDescribedInTheConfigurationMetadata() throws Exception {
        JsonNode metadata;
        try (InputStream in = AutocertProperties.class.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("metadata generated by spring-boot-configuration-processor").isNotNull();
            metadata = new ObjectMapper().readTree(in);
        }
        Map<String, JsonNode> properties = new HashMap<>();
        metadata.get("properties").forEach(p -> properties.put(p.get("name").asText(), p));
        for (String name : AutocertSettings.NAMES) {
            JsonNode property = properties.get("autocert." + name);
            assertThat(property).as("autocert." + name).isNotNull();
            assertThat(property.path("description").asText()).as("description of autocert." + name).isNotBlank();
        }
        assertThat(properties.get("autocert.agree-tos").get("description").asText()).startsWith("Whether");
        assertThat(properties.get("autocert.agree-tos").get("defaultValue").asBoolean()).isFalse();
        assertThat(properties.get("autocert.ca").get("defaultValue").asText()).isEqualTo("letsencrypt");
        assertThat(properties.get("autocert.key-type").get("defaultValue").asText()).isEqualTo("ec-p256");
        assertThat(properties.get("autocert.challenges").get("defaultValue").asText()).isEqualTo("http-01");
        assertThat(properties.get("autocert.http-port").get("defaultValue").asInt()).isEqualTo(80);
        assertThat(properties.get("autocert.startup-wait").get("defaultValue").asText()).isEqualTo("0");
        Map<String, JsonNode> hints = new HashMap<>();
        metadata.get("hints").forEach(h -> hints.put(h.get("name").asText(), h.get("values")));
        assertThat(hints.get("autocert.key-type").findValuesAsText("value"))
                .containsExactly("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096");
        assertThat(hints.get("autocert.ca").findValuesAsText("value"))
                .containsExactly("letsencrypt", "letsencrypt-staging", "zerossl", "google");
    }
}
