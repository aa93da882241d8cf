package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The key manager in real JSSE handshakes: which certificate each client is served, and swaps. */
class SniKeyManagerTest {

    private final AtomicReference<CertificateSet> set = new AtomicReference<>(CertificateSet.EMPTY);
    private final SniKeyManager keyManager = new SniKeyManager(set::get);
    private LoopbackTlsServer server;

    @BeforeEach
    void listen() throws Exception {
        server = new LoopbackTlsServer(keyManager);
    }

    @AfterEach
    void close() throws Exception {
        server.close();
    }

    private static CertifiedKey key(String name, String... names) {
        List<String> all = new ArrayList<>(List.of(names));
        all.add(0, name);
        CertifiedKey placeholder = Placeholders.create(name, all, Instant.now());
        return CertifiedKey.of(name, placeholder.privateKey(), placeholder.chain());
    }

    private X509Certificate served(String sni) throws Exception {
        return server.served(sni);
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
