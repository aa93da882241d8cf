package dev.autocert.core;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;

/**
 * Builds the in-memory key store a server adapter installs: one entry per certificate, its
 * alias the certificate's name, so that the server's SNI matching picks by host name.
 * Thread-safe (stateless).
 */
public final class KeyStores {

    private KeyStores() {
    }

    /**
     * Returns a PKCS#12 key store holding {@code keys}, after checking that each private key
     * matches its certificate and that a key manager can be built from the store.
     *
     * @throws GeneralSecurityException when any key does not match its chain, two keys share a
     *         name, or the JDK refuses the store; the message names the certificate, never the key
     */
    public static KeyStore build(Collection<CertifiedKey> keys, char[] password) throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, password);
        } catch (IOException e) {
            throw new GeneralSecurityException("Cannot create an empty key store", e);
        }
        for (CertifiedKey key : keys) {
            if (store.containsAlias(key.name())) {
                throw new GeneralSecurityException("Two certificates are named " + key.name());
            }
            if (!key.keyMatches()) {
                throw new GeneralSecurityException("The private key of " + key + " does not match its certificate chain");
            }
            store.setKeyEntry(key.name(), key.privateKey(), password, key.chain().toArray(Certificate[]::new));
        }
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm()).init(store, password);
        return store;
    }
}
