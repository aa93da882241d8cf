package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.Http2Probe;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.WebServer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * TLS-ALPN-01 through the starter, run by one subclass per server (Tomcat here, Jetty in {@code
 * jetty-it}, which takes this class from the test-jar): an application with {@code
 * autocert.challenges=tls-alpn-01} listens on Pebble's {@code tlsPort}, Pebble validates each name
 * through the application's HTTPS port alone, and the issued certificates are then served to
 * ordinary clients, with {@code server.http2.enabled} and without: with it a browser negotiates
 * HTTP/2 and is answered over it, without it HTTP/1.1, as without Autocert.
 */
abstract class TlsAlpn01IntegrationTestBase {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    Path storage;

    /** The class of web server the application runs. */
    abstract Class<? extends WebServer> serverType();

    @Test
    void obtainsCertificatesThroughTheHttpsPortOverHttp11() throws Exception {
        obtainsAndServes(false);
    }

    @Test
    void obtainsCertificatesThroughTheHttpsPortWithHttp2Enabled() throws Exception {
        obtainsAndServes(true);
    }

    private void obtainsAndServes(boolean http2) throws Exception {
        String prefix = http2 ? "h2-" : "h1-";
        List<String> names = List.of(prefix + "a.example.test", prefix + "b.example.test");
        long httpValidations = PEBBLE.countLogLines("http-01");
        Map<String, Object> properties = new LinkedHashMap<>(PEBBLE.autocertProperties());
        properties.put("autocert.domains", String.join(";", names));
        properties.put("autocert.email", "admin@example.test");
        properties.put("autocert.storage", storage.toString());
        properties.put("autocert.challenges", "tls-alpn-01");
        properties.put("autocert.startup-wait", "60s"); // the application starts once both are issued
        properties.put("server.port", PEBBLE.tlsPort());
        properties.put("server.address", "127.0.0.1");
        properties.put("server.http2.enabled", http2);
        properties.put("logging.level.dev.autocert", "debug");
        properties.put("spring.autoconfigure.exclude", BootTest.NO_SECURITY);

        try (ConfigurableApplicationContext application = new SpringApplicationBuilder(ServerIntegrationTestBase.App.class)
                .properties(properties).run()) {
            assertThat(BootTest.webServer(application)).isInstanceOf(serverType());
            CertificateManager manager = application.getBean(CertificateManager.class);
            assertThat(PEBBLE.countLogLines("http-01")).as("HTTP-01 validations").isEqualTo(httpValidations);

            SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
            for (String name : names) {
                CertifiedKey issued = manager.certificate(name).orElseThrow();
                assertThat(issued.placeholder()).as("%s issued by Pebble", name).isFalse();

                Http2Probe.Response browser = Http2Probe.get(pebbleRoots, PEBBLE.tlsPort(), name, "/hello");
                assertThat(browser.served()).isEqualTo(issued.certificate());
                if (http2) {
                    assertThat(browser.protocol()).as("ALPN with h2 offered").isEqualTo("h2");
                    assertThat(browser.status()).isEqualTo(200);
                    assertThat(browser.body()).isEqualTo("hello over https");
                } else {
                    assertThat(browser.protocol()).as("ALPN with h2 offered, on a server without HTTP/2").isEmpty();
                }
                try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, PEBBLE.tlsPort(), name)) {
                    assertThat(connection.served()).isEqualTo(issued.certificate());
                    assertThat(connection.get("/hello").body()).as("HTTP/1.1 without ALPN").isEqualTo("hello over https");
                }
            }
            assertThatThrownBy(() -> negotiated(pebbleRoots, names.get(0), "acme-tls/1"))
                    .as("acme-tls/1 with no validation under way fails the handshake").isInstanceOf(SSLException.class);
        }
    }

    /** The ALPN protocol a client offering {@code protocols} negotiates with SNI {@code host}, the certificate verified. */
    private static String negotiated(SSLContext trust, String host, String... protocols) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), PEBBLE.tlsPort()), 10_000);
            plain.setSoTimeout(10_000);
            try (SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket(plain, host, PEBBLE.tlsPort(), true)) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                parameters.setServerNames(List.of(new SNIHostName(host)));
                parameters.setApplicationProtocols(protocols);
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                return socket.getApplicationProtocol();
            }
        }
    }
}
