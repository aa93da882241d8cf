package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.BindServer;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * DNS-01 through the starter, as docs/dns.md tells a Spring Boot user: {@code autocert-dns} on the
 * class path and {@code autocert.dns-*} in the application's properties. Pebble validates a
 * wildcard and its apex by querying a real BIND that Autocert updates over RFC 2136, and the
 * application serves the certificate by SNI for any name under the wildcard.
 */
class Dns01IntegrationTest {

    @RegisterExtension
    @Order(1)
    static final BindServer DNS = BindServer.builder().build();

    @RegisterExtension
    @Order(2)
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(DNS.address()).build();

    @TempDir
    Path dir;

    @Test
    void obtainsAWildcardCertificateAndServesItBySni() throws Exception {
        Path credentials = dir.resolve("rfc2136.ini");
        Files.writeString(credentials, DNS.rfc2136Credentials());
        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-------"));
        int port = ServerIntegrationTestBase.freePort();
        Map<String, Object> properties = new LinkedHashMap<>(PEBBLE.autocertProperties());
        properties.put("autocert.domains", "*.example.test,example.test");
        properties.put("autocert.email", "admin@example.test");
        properties.put("autocert.storage", dir.resolve("storage").toString());
        properties.put("autocert.challenges", "dns-01");
        properties.put("autocert.dns-provider", "rfc2136");
        properties.put("autocert.dns-credentials", credentials.toString());
        properties.put("autocert.dns-propagation-check", "resolvers");
        properties.put("autocert.dns-resolvers", "127.0.0.1:" + DNS.port());
        properties.put("autocert.startup-wait", "60s");
        properties.put("server.port", port);
        properties.put("server.address", "127.0.0.1");
        properties.put("spring.autoconfigure.exclude", BootTest.NO_SECURITY);

        try (ConfigurableApplicationContext application = new SpringApplicationBuilder(ServerIntegrationTestBase.App.class)
                .properties(properties).run()) {
            CertifiedKey issued = application.getBean(CertificateManager.class).certificate("*.example.test").orElseThrow();
            assertThat(issued.placeholder()).isFalse();
            assertThat(issued.names()).containsExactlyInAnyOrder("*.example.test", "example.test");
            SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
            for (String name : List.of("example.test", "www.example.test", "api.example.test")) {
                try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, port, name)) {
                    assertThat(connection.served()).as(name).isEqualTo(issued.certificate());
                    assertThat(connection.get("/hello").body()).isEqualTo("hello over https");
                }
            }
            assertThat(DNS.txt("_acme-challenge.example.test")).as("challenge values removed").isEmpty();
        }
    }
}
