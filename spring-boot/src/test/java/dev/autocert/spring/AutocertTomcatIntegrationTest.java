package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import java.util.ArrayList;
import java.util.List;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.boot.web.server.WebServer;
import org.springframework.test.annotation.DirtiesContext;

/**
 * {@link ServerIntegrationTestBase} on embedded Tomcat, where one SSL host config serves every
 * certificate through the engine's key manager, plus the actuator's view of the certificates.
 */
@SpringBootTest(classes = ServerIntegrationTestBase.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "autocert.domains=" + ServerIntegrationTestBase.DOMAINS,
            "server.address=127.0.0.1",
            "management.endpoints.web.exposure.include=health,autocert",
            "management.endpoint.health.show-details=always",
            "spring.autoconfigure.exclude=" + BootTest.NO_SECURITY
        })
@DirtiesContext
class AutocertTomcatIntegrationTest extends ServerIntegrationTestBase {

    @Test
    void runsOnTomcat(@Autowired ApplicationContext context) {
        assertThat(BootTest.webServer(context)).isInstanceOf(BootTest.tomcatWebServer());
    }

    /** Every name is served by the connector's one default SSL host config: no config per name. */
    @Test
    void oneSslHostConfigServesEveryName(@Autowired ApplicationContext context) {
        List<String> hostNames = new ArrayList<>();
        for (Connector connector : BootTest.tomcat(BootTest.webServer(context)).getService().findConnectors()) {
            if (connector.getProtocolHandler() instanceof AbstractHttp11Protocol<?> protocol && protocol.isSSLEnabled()) {
                for (SSLHostConfig config : protocol.findSslHostConfigs()) {
                    hostNames.add(config.getHostName());
                    assertThat(config.getCertificates()).hasSize(1)
                            .allMatch(certificate -> certificate.getCertificateKeyManager() == manager.keyManager());
                }
            }
        }
        assertThat(hostNames).containsExactly("_default_");
    }

    @Override
    List<Object> sslContexts(WebServer server) {
        List<Object> contexts = new ArrayList<>();
        for (Connector connector : BootTest.tomcat(server).getService().findConnectors()) {
            if (connector.getProtocolHandler() instanceof AbstractHttp11Protocol<?> protocol && protocol.isSSLEnabled()) {
                for (SSLHostConfig config : protocol.findSslHostConfigs()) {
                    for (SSLHostConfigCertificate certificate : config.getCertificates()) {
                        contexts.add(certificate.getSslContext());
                    }
                }
            }
        }
        return contexts;
    }

    @Test
    void reportsCertificatesThroughActuator() throws Exception {
        CertifiedKey www = TestAutocert.awaitReal(manager, "www.example.test");
        TestAutocert.awaitReal(manager, "api.example.test");
        try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleTrust, port, "www.example.test", www.serial(),
                TestAutocert.ISSUANCE_TIMEOUT)) {
            HttpsProbe.Response health = connection.get("/actuator/health/autocert");
            assertThat(health.status()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"", "\"www.example.test\"", "\"api.example.test\"",
                    "\"placeholder\":false");
            HttpsProbe.Response endpoint = connection.get("/actuator/autocert");
            assertThat(endpoint.status()).isEqualTo(200);
            assertThat(endpoint.body()).contains("\"name\":\"www.example.test\"", "\"domains\":[\"www.example.test\",\"example.test\"]",
                    "\"outcome\":\"SUCCEEDED\"", "\"expiring\":false", "\"nextRenewal\":\"");
            assertThat(endpoint.body()).containsPattern("\"renewalRule\":\"(lifetime-ratio|ari-window)\"");
            HttpsProbe.Response one = connection.get("/actuator/autocert/api.example.test");
            assertThat(one.status()).isEqualTo(200);
            assertThat(one.body()).contains("\"name\":\"api.example.test\"");
        }
    }
}
