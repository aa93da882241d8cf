package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.ChallengeType;
import dev.autocert.testkit.Http2Probe;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS-ALPN-01 on embedded Jetty: Pebble validates through the HTTPS connector itself (on its
 * {@code tlsPort}), and the certificate it issues is then served to normal clients, over HTTP/1.1
 * or, on a connector with HTTP/2, over what Jetty's ALPN chooses.
 */
class TlsAlpn01Test {

    private static final int TLS_PORT = freePort();

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().tlsPort(TLS_PORT).build();

    /** The acmeIdentifier extension of a challenge certificate (RFC 8737 section 6.1). */
    private static final String ACME_IDENTIFIER = "1.3.6.1.5.5.7.1.31";

    private static final String A = "alpn-a.example.test";
    private static final String B = "alpn-b.example.test";
    private static final String H2_A = "alpn-h2-a.example.test";
    private static final String H2_B = "alpn-h2-b.example.test";

    @TempDir
    Path storage;

    private Server server;

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void obtainsCertificatesThroughTheHttpsConnectorAlone() throws Exception {
        server = TestServers.httpsServer();
        ServerConnector https = (ServerConnector) server.getConnectors()[0];
        https.setPort(PEBBLE.tlsPort());
        Set<String> validated = recordValidations(https);
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.waitingFor(
                TestServers.pebble(PEBBLE, storage, A + ";" + B).challenges(ChallengeType.TLS_ALPN_01)));
        server.start();

        assertEquals(1, server.getConnectors().length, "no plain HTTP connector is needed, so none is added");
        assertEquals(Set.of(A, B), validated, "Pebble validated both names through acme-tls/1 handshakes");
        assertEquals(0, PEBBLE.countLogLines("http-01"), String.join("\n", PEBBLE.log()));

        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
        for (String name : List.of(A, B)) {
            try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, TLS_PORT, name)) {
                assertEquals(TestServers.served(autocert, name).certificate(), connection.served());
                assertEquals("hello " + name, connection.get("/").body());
            }
            assertEquals("", negotiated(pebbleRoots, name, "h2", "http/1.1"),
                    "a browser negotiates what it did before: no ALPN, on a connector without it");
        }
        assertThrows(SSLException.class, () -> negotiated(pebbleRoots, A, "acme-tls/1"),
                "acme-tls/1 with no validation under way fails the handshake");
    }

    /**
     * With HTTP/2 on the connector, Jetty's ALPN connection chooses the protocol of every
     * handshake; the CA's {@code acme-tls/1} still gets the challenge certificate, and every other
     * client negotiates exactly what Jetty chooses without Autocert.
     */
    @Test
    void obtainsCertificatesThroughAnHttp2Connector() throws Exception {
        server = TestServers.http2Server();
        ServerConnector https = (ServerConnector) server.getConnectors()[0];
        https.setPort(PEBBLE.tlsPort());
        Set<String> validated = recordValidations(https);
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.waitingFor(
                TestServers.pebble(PEBBLE, storage, H2_A + ";" + H2_B).challenges(ChallengeType.TLS_ALPN_01)));
        server.start();

        assertEquals(Set.of(H2_A, H2_B), validated, "Pebble validated both names through acme-tls/1 handshakes");
        assertEquals(0, PEBBLE.countLogLines("http-01"), String.join("\n", PEBBLE.log()));

        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
        for (String name : List.of(H2_A, H2_B)) {
            X509Certificate issued = TestServers.served(autocert, name).certificate();
            Http2Probe.Response h2 = Http2Probe.get(pebbleRoots, TLS_PORT, name, "/");
            assertEquals("h2", h2.protocol(), "a browser negotiates HTTP/2");
            assertEquals(issued, h2.served());
            assertEquals(200, h2.status());
            assertEquals("hello " + name, h2.body());
            assertEquals("http/1.1", negotiated(pebbleRoots, name, "http/1.1"));
            try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, TLS_PORT, name)) {
                assertEquals(issued, connection.served());
                assertEquals("hello " + name, connection.get("/").body(), "a client without ALPN gets Jetty's default, HTTP/1.1");
            }
        }
        assertThrows(SSLException.class, () -> negotiated(pebbleRoots, H2_A, "acme-tls/1"),
                "acme-tls/1 with no validation under way fails the handshake");
        assertThrows(SSLException.class, () -> negotiated(pebbleRoots, H2_A, "spdy/3"),
                "a protocol Jetty does not speak fails the handshake, as without Autocert");
    }

    /** The names the server's own acme-tls/1 handshakes on {@code https} served a challenge certificate for. */
    private static Set<String> recordValidations(ServerConnector https) {
        Set<String> validated = ConcurrentHashMap.newKeySet();
        https.addBean(new SslHandshakeListener() {
            @Override
            public void handshakeSucceeded(Event event) {
                var session = event.getSSLEngine().getSession();
                if ("acme-tls/1".equals(event.getSSLEngine().getApplicationProtocol())
                        && session.getLocalCertificates()[0] instanceof X509Certificate served
                        && served.getCriticalExtensionOIDs().contains(ACME_IDENTIFIER)) {
                    validated.add(sniName(session));
                }
            }
        });
        return validated;
    }

    /** The ALPN protocol a client offering {@code protocols} negotiates with SNI {@code host}, the certificate verified. */
    static String negotiated(SSLContext trust, String host, String... protocols) throws IOException {
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
                return socket.getApplicationProtocol().toLowerCase(Locale.ROOT);
            }
        }
    }

    /** The SNI host name of a server-side session. */
    private static String sniName(SSLSession session) {
        return ((ExtendedSSLSession) session).getRequestedServerNames().stream()
                .map(name -> ((SNIHostName) name).getAsciiName()).findFirst().orElse("");
    }

    private static int freePort() {
        try {
            return TestServers.freePort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
