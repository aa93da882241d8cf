package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TLS-ALPN-01 (RFC 8737) in real JSSE handshakes: the solver's challenge certificate reaches a
 * client offering {@code acme-tls/1} alone for a name being validated, and nothing changes for
 * every other client.
 */
class TlsAlpn01SolverTest {

    /** The OID of the acmeIdentifier extension (RFC 8737 section 6.1). */
    private static final String ACME_IDENTIFIER = "1.3.6.1.5.5.7.1.31";

    private final TlsAlpn01Solver solver = new TlsAlpn01Solver();
    private final AtomicReference<CertificateSet> set = new AtomicReference<>(CertificateSet.EMPTY);
    private final SniKeyManager keyManager = new SniKeyManager(set::get, null, solver);
    private final CertifiedKey normal = key("alpn.example.test");
    /** The server's own ALPN protocols, as an HTTP/2 server sets them; empty for none. */
    private volatile String[] serverProtocols = {};
    private LoopbackTlsServer server;

    @BeforeEach
    void listen() throws Exception {
        set.set(new CertificateSet(List.of(normal)));
        server = new LoopbackTlsServer(keyManager, socket -> {
            keyManager.enableTlsAlpn01(socket);
            // Set after the selector, as Tomcat and Jetty set theirs: read at the handshake.
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setApplicationProtocols(serverProtocols);
            socket.setSSLParameters(parameters);
        });
    }

    @AfterEach
    void close() throws Exception {
        server.close();
    }

    private static CertifiedKey key(String name) {
        CertifiedKey placeholder = Placeholders.create(name, List.of(name), Instant.now());
        return CertifiedKey.of(name, placeholder.privateKey(), placeholder.chain());
    }

    private static ChallengeData challenge(String domain, String token) {
        return new ChallengeData(ChallengeType.TLS_ALPN_01, domain, token, token + ".thumbprint");
    }

    @Test
    void servesTheChallengeCertificateToAcmeTls1ForANameBeingValidated() throws Exception {
        ChallengeData challenge = challenge("alpn.example.test", "token-1");
        solver.present(challenge);

        var validation = server.handshake("alpn.example.test", null, "acme-tls/1");
        assertEquals("acme-tls/1", validation.applicationProtocol());
        X509Certificate certificate = validation.certificate();
        assertEquals(List.of(List.of(2, "alpn.example.test")), certificate.getSubjectAlternativeNames().stream().toList());
        assertTrue(certificate.getCriticalExtensionOIDs().contains(ACME_IDENTIFIER), "the acmeIdentifier extension is critical");
        byte[] extension = certificate.getExtensionValue(ACME_IDENTIFIER); // OCTET STRING { OCTET STRING (32) }
        assertArrayEquals(TlsAlpn01Solver.acmeValidation(challenge.keyAuthorization()),
                Arrays.copyOfRange(extension, extension.length - 32, extension.length));
        assertEquals(34, extension[1], "the extension holds an OCTET STRING of the 32-byte SHA-256");

        var browser = server.handshake("alpn.example.test", null, "h2", "http/1.1");
        assertEquals(normal.certificate(), browser.certificate(), "a normal client is served the real certificate meanwhile");
        assertEquals("", browser.applicationProtocol(), "and negotiates what it did before: nothing, on a server without ALPN");
        assertEquals(normal.certificate(), server.handshake("alpn.example.test", null).certificate());
    }

    @Test
    void leavesWhatOtherClientsNegotiateUnchanged() throws Exception {
        solver.present(challenge("alpn.example.test", "token-2"));
        serverProtocols = new String[] {"h2", "http/1.1"};

        assertEquals("h2", server.handshake("alpn.example.test", null, "http/1.1", "h2").applicationProtocol(),
                "the server's preference wins, as in JSSE");
        assertEquals("http/1.1", server.handshake("alpn.example.test", null, "http/1.1", "acme-tls/1").applicationProtocol(),
                "acme-tls/1 among other protocols is no validation");
        var noAlpn = server.handshake("alpn.example.test", null);
        assertEquals("", noAlpn.applicationProtocol());
        assertEquals(normal.certificate(), noAlpn.certificate());
        assertThrows(SSLException.class, () -> server.handshake("alpn.example.test", null, "spdy/3"),
                "no protocol in common fails the handshake, as in JSSE");
    }

    @Test
    void failsAcmeTls1ForANameWithoutChallenge() throws Exception {
        assertThrows(SSLException.class, () -> server.handshake("alpn.example.test", null, "acme-tls/1"),
                "no challenge pending at all");
        solver.present(challenge("other.example.test", "token-3"));
        assertThrows(SSLException.class, () -> server.handshake("alpn.example.test", null, "acme-tls/1"),
                "a challenge for another name only");
        assertEquals(normal.certificate(), server.served("alpn.example.test"));
    }

    @Test
    void cleanUpForgetsTheChallenge() throws Exception {
        ChallengeData challenge = challenge("alpn.example.test", "token-4");
        solver.present(challenge);
        assertEquals("acme-tls/1", server.handshake("alpn.example.test", null, "acme-tls/1").applicationProtocol());

        solver.cleanUp(challenge("alpn.example.test", "another-token"));
        assertEquals("acme-tls/1", server.handshake("alpn.example.test", null, "acme-tls/1").applicationProtocol(),
                "cleaning up another challenge for the name keeps this one");
        solver.cleanUp(challenge);
        assertThrows(SSLException.class, () -> server.handshake("alpn.example.test", null, "acme-tls/1"));
        assertTrue(solver.isEmpty());
    }

    @Test
    void validatesAnIpAddressUnderItsReverseName() throws Exception {
        solver.present(challenge("127.0.0.1", "token-5"));

        var validation = server.handshake("1.0.0.127.in-addr.arpa", null, "acme-tls/1");
        assertEquals("acme-tls/1", validation.applicationProtocol());
        assertEquals(List.of(List.of(7, "127.0.0.1")), validation.certificate().getSubjectAlternativeNames().stream().toList());
        assertEquals("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                TlsAlpn01Solver.serverName("2001:db8::1"));
    }

    @Test
    void refusesValidationOverTls12WhereTheCertificateIsChosenFirst() throws Exception {
        solver.present(challenge("alpn.example.test", "token-6"));
        assertThrows(SSLException.class, () -> server.handshake("alpn.example.test", "TLSv1.2", "acme-tls/1"));
        assertEquals(normal.certificate(), server.handshake("alpn.example.test", "TLSv1.2", "h2").certificate(),
                "normal TLS 1.2 clients are unaffected");
    }
}
