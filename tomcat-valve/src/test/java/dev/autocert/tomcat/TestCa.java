package dev.autocert.tomcat;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A real certificate authority for tests, built in code (the idea of OkHttp's {@code
 * HeldCertificate}): its root (for a trust store), and the client certificates it issues with their
 * keys, and CRLs. Stored server certificates come from the test kit's {@code StoredCertificates}.
 * Thread-safe.
 */
final class TestCa {

    private static final AtomicLong SERIALS = new AtomicLong(1000);
    private static final Duration VALIDITY = Duration.ofDays(1);

    private final KeyPair key;
    final X509Certificate certificate;

    /** A client certificate and its key. */
    record Client(KeyPair key, X509Certificate certificate) {

        /** Key managers presenting this certificate, for {@code SSLContext.init}. */
        KeyManager[] keyManagers() {
            try {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                char[] password = "client".toCharArray();
                store.setKeyEntry("client", key.getPrivate(), password, new X509Certificate[] {certificate});
                KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                factory.init(store, password);
                return factory.getKeyManagers();
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private TestCa(KeyPair key, X509Certificate certificate) throws GeneralSecurityException {
        this.key = key;
        this.certificate = certificate;
    }

    /** A new root named {@code CN=commonName}. */
    static TestCa create(String commonName) throws GeneralSecurityException {
        KeyPair key = ecKey();
        X500Name name = new X500Name("CN=" + commonName);
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(VALIDITY)), name, key.getPublic());
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new TestCa(key, new JcaX509CertificateConverter().getCertificate(builder.build(signer(key))));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client certificate for {@code CN=commonName}, for TLS client authentication. */
    Client issue(String commonName) throws GeneralSecurityException {
        KeyPair clientKey = ecKey();
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(VALIDITY)),
                new X500Name("CN=" + commonName), clientKey.getPublic());
        try {
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
            return new Client(clientKey, new JcaX509CertificateConverter().getCertificate(builder.build(signer(key))));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A current CRL of this CA listing {@code revoked}. */
    X509CRL crl(X509Certificate... revoked) throws GeneralSecurityException {
        Instant now = Instant.now();
        X509v2CRLBuilder builder = new JcaX509v2CRLBuilder(certificate, Date.from(now.minus(Duration.ofMinutes(5))));
        builder.setNextUpdate(Date.from(now.plus(VALIDITY)));
        for (X509Certificate certificate : revoked) {
            builder.addCRLEntry(certificate.getSerialNumber(), Date.from(now.minus(Duration.ofMinutes(1))),
                    CRLReason.keyCompromise);
        }
        return new JcaX509CRLConverter().getCRL(builder.build(signer(key)));
    }

    private static KeyPair ecKey() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        return generator.generateKeyPair();
    }

    private static ContentSigner signer(KeyPair key) {
        try {
            return new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate());
        } catch (OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIALS.incrementAndGet());
    }
}
