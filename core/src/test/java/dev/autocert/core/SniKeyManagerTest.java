package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The key manager in real JSSE handshakes: which certificate each client is served, and swaps. */
class SniKeyManagerTest {

    private final AtomicReference<CertificateSet> set = new AtomicReference<>(CertificateSet.EMPTY);
    private final SniKeyManager keyManager = new SniKeyManager(set::get);
    private final ExecutorService acceptor = Executors.newSingleThreadExecutor();
    private SSLServerSocket server;
    private Future<?> accepting;

    @BeforeEach
    void listen() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[] {keyManager}, null, new SecureRandom());
        server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        accepting = acceptor.submit(() -> {
            while (!server.isClosed()) {
                try (SSLSocket socket = (SSLSocket) server.accept()) {
                    socket.startHandshake();
                    socket.getOutputStream().write(1);
                } catch (Exception e) {
                    // a client that refused the certificate, or the server closing
                }
            }
        });
    }

    @AfterEach
    void close() throws Exception {
        server.close();
        acceptor.shutdownNow();
    }

    private static CertifiedKey key(String name, String... names) {
        List<String> all = new ArrayList<>(List.of(names));
        all.add(0, name);
        CertifiedKey placeholder = Placeholders.create(name, all, Instant.now());
        return CertifiedKey.of(name, placeholder.privateKey(), placeholder.chain());
    }

    /** The certificate served to a client sending {@code sni} (none when null). */
    private X509Certificate served(String sni) throws Exception {
        SSLContext client = SSLContext.getInstance("TLS");
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        client.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen.set(chain[0]); // records what was served; the tests compare it exactly
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            socket.getInputStream().read();
        }
        return seen.get();
    }

    @Test
    void servesTheExactNameThenTheWildcardThenTheDefault() throws Exception {
        CertifiedKey first = key("first.example.test");
        CertifiedKey exact = key("www.example.test", "example.test");
        CertifiedKey wildcard = key("*.example.test");
        set.set(new CertificateSet(List.of(first, exact, wildcard)));

        assertEquals(exact.certificate(), served("www.example.test"));
        assertEquals(exact.certificate(), served("EXAMPLE.test"));
        assertEquals(wildcard.certificate(), served("api.example.test"));
        assertEquals(first.certificate(), served("other.example.net"), "an unknown name gets the default");
        assertEquals(first.certificate(), served(null), "a client without SNI gets the default");
        assertEquals(first.certificate(), served("a.b.example.test"), "a wildcard covers one label only");
    }

    @Test
    void theNextHandshakeSeesASwap() throws Exception {
        CertifiedKey old = key("swap.example.test");
        set.set(new CertificateSet(List.of(old)));
        assertEquals(old.certificate(), served("swap.example.test"));
        CertifiedKey renewed = key("swap.example.test");
        set.set(new CertificateSet(List.of(renewed)));
        assertEquals(renewed.certificate(), served("swap.example.test"));
    }

    @Test
    void anAliasChosenJustBeforeASwapStillHasItsKey() {
        CertifiedKey old = key("race.example.test");
        set.set(new CertificateSet(List.of(old)));
        String alias = keyManager.getServerAliases("EC", null)[0];
        set.set(new CertificateSet(List.of(key("race.example.test"))));
        keyManager.getServerAliases("EC", null); // a handshake sees the new set
        assertArrayEquals(old.chain().toArray(), keyManager.getCertificateChain(alias));
        assertEquals(old.privateKey(), keyManager.getPrivateKey(alias));
    }

    @Test
    void offersNoKeyOfATypeTheNameHasNot() {
        set.set(new CertificateSet(List.of(key("ec.example.test"))));
        assertNull(keyManager.getServerAliases("RSA", null));
        assertEquals(1, keyManager.getServerAliases("EC", null).length);
    }
}
