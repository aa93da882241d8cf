package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.ChallengeType;
import dev.autocert.testkit.Http2Probe;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.coyote.http2.Http2Protocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS-ALPN-01 on embedded Tomcat: Pebble validates through the HTTPS connector itself (on its
 * {@code tlsPort}), with no plain HTTP connector at all, and the certificate it issues is then
 * served to normal clients, which negotiate HTTP/2 or nothing as before.
 */
class TlsAlpn01Test {

    private static final int TLS_PORT = TestTomcat.freePort();

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().tlsPort(TLS_PORT).build();

    private static final String A = "alpn-a.example.test";
    private static final String B = "alpn-b.example.test";

    /** Where Tomcat says it closed a connection that negotiated a protocol it does not serve. */
    private static final Logger PROTOCOL_LOG = Logger.getLogger("org.apache.coyote.http11.Http11NioProtocol");
    private final List<String> negotiatedElsewhere = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            negotiatedElsewhere.add(String.valueOf(record.getMessage()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private Level level;

    @TempDir
    Path dir;

    private Tomcat tomcat;

    @BeforeEach
    void captureLog() {
        level = PROTOCOL_LOG.getLevel();
        PROTOCOL_LOG.setLevel(Level.FINE);
        PROTOCOL_LOG.addHandler(capture);
    }

    @AfterEach
    void stop() throws Exception {
        PROTOCOL_LOG.removeHandler(capture);
        PROTOCOL_LOG.setLevel(level);
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    @Test
    void obtainsCertificatesThroughTheHttpsConnectorAlone() throws Exception {
        tomcat = new Tomcat();
        tomcat.setBaseDir(dir.resolve("tomcat").toString());
        Connector https = new Connector();
        https.setPort(TLS_PORT);
        https.setProperty("address", "127.0.0.1");
        https.setProperty("SSLEnabled", "true");
        https.addUpgradeProtocol(new Http2Protocol());
        tomcat.getService().addConnector(https);
        tomcat.setConnector(https);
        Context root = tomcat.addContext("", null);
        ((StandardContext) root).setClearReferencesThreadLocals(false);
        ((StandardContext) root).setClearReferencesRmiTargets(false);
        Tomcat.addServlet(root, "hello", new TestTomcat.Hello());
        root.addServletMappingDecoded("/", "hello");

        CertificateManager manager = AutocertTomcat.install(tomcat, TestTomcat.settings(PEBBLE, dir.resolve("storage"), A + ";" + B)
                .challenges(ChallengeType.TLS_ALPN_01).set("startup-wait", "60s").build());
        tomcat.start(); // returns once both certificates are issued and served

        assertEquals(1, tomcat.getService().findConnectors().length, "no plain HTTP connector is added for TLS-ALPN-01");
        assertEquals(0, PEBBLE.countLogLines("http-01"), String.join("\n", PEBBLE.log()));
        assertTrue(negotiatedElsewhere.stream().anyMatch(line -> line.contains("acme-tls/1")),
                "Tomcat closed Pebble's acme-tls/1 connections: " + negotiatedElsewhere);

        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
        for (String name : List.of(A, B)) {
            try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, TLS_PORT, name)) {
                assertEquals(manager.certificate(name).orElseThrow().certificate(), connection.served());
                assertEquals("hello " + name + " /", connection.get("/").body().strip());
            }
            assertEquals("h2", negotiated(pebbleRoots, name, "h2", "http/1.1"), "a browser negotiates HTTP/2 as before");
            Http2Probe.Response h2 = Http2Probe.get(pebbleRoots, TLS_PORT, name, "/");
            assertEquals("h2", h2.protocol());
            assertEquals(manager.certificate(name).orElseThrow().certificate(), h2.served());
            assertEquals(200, h2.status());
            assertEquals("hello " + name + " /", h2.body().strip(), "and is answered over HTTP/2");
            assertEquals("", negotiated(pebbleRoots, name, "http/1.1"), "Tomcat leaves http/1.1 implicit, as before");
        }
        assertThrows(SSLException.class, () -> negotiated(pebbleRoots, A, "acme-tls/1"),
                "acme-tls/1 with no validation under way fails the handshake");
    }

    /** The ALPN protocol a client offering {@code protocols} negotiates with SNI {@code host}, the certificate verified. */
    private static String negotiated(SSLContext trust, String host, String... protocols) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), TLS_PORT), 10_000);
            plain.setSoTimeout(10_000);
            try (SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket(plain, host, TLS_PORT, true)) {
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
