package dev.autocert.store.vault;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS for Vault with a private CA: the JVM's trusted certificates plus those of a PEM file
 * ({@code autocert.vault-ca-cert}, {@code VAULT_CACERT}). Host names are checked as usual.
 */
final class VaultTls {

    private VaultTls() {
    }

    /** {@return a TLS context trusting the JVM's CAs and every certificate in {@code pemFile}} */
    static SSLContext trusting(Path pemFile) throws IOException {
        Collection<? extends Certificate> extra;
        try (InputStream in = Files.newInputStream(pemFile)) {
            extra = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (NoSuchFileException e) {
            throw new IOException(pemFile + " does not exist");
        } catch (GeneralSecurityException e) {
            throw new IOException(pemFile + " holds no readable PEM certificate: " + e.getMessage());
        }
        if (extra.isEmpty()) {
            throw new IOException(pemFile + " holds no PEM certificate");
        }
        try {
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int i = 0;
            TrustManagerFactory jvm = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            jvm.init((KeyStore) null);
            for (TrustManager manager : jvm.getTrustManagers()) {
                if (manager instanceof X509TrustManager x509) {
                    for (X509Certificate ca : x509.getAcceptedIssuers()) {
                        trusted.setCertificateEntry("jvm-" + i++, ca);
                    }
                }
            }
            for (Certificate ca : extra) {
                trusted.setCertificateEntry("vault-ca-" + i++, ca);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot build a trust store with " + pemFile + ": " + e.getMessage(), e);
        }
    }
}
