package dev.autocert.testkit;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Creates the certificate Pebble's own HTTPS listeners present, and the trust that goes with it.
 *
 * <p>Pebble ships no listener certificate, so a small certificate authority is made here: an
 * ECDSA P-256 root that signs one ECDSA P-256 leaf for {@code localhost}, {@code 127.0.0.1} and
 * {@code ::1}. Clients trust the root (see {@link #writeTrust(Path)} and {@link #trustContext()}).
 * This authority has nothing to do with the roots Pebble issues ACME certificates from.
 */
final class PebbleCertificates {

    private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
    private static final Duration CLOCK_SKEW = Duration.ofHours(1);
    private static final Duration LIFETIME = Duration.ofDays(365);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate authority;
    private final X509Certificate listener;
    private final KeyPair listenerKeys;
    private final SSLContext trustContext;

    private PebbleCertificates(X509Certificate authority, X509Certificate listener, KeyPair listenerKeys) {
        this.authority = authority;
        this.listener = listener;
        this.listenerKeys = listenerKeys;
        this.trustContext = sslContextTrusting(List.of(authority));
    }

    /**
     * Generates a fresh authority and listener certificate.
     *
     * @return the new certificates
     */
    static PebbleCertificates generate() {
        try {
            KeyPair authorityKeys = newKeyPair();
            X500Name authorityName = new X500Name("CN=Autocert Testkit Listener CA,O=Autocert Testkit");
            X509Certificate authority = sign(authorityCertificate(authorityName, authorityKeys), authorityKeys);

            KeyPair listenerKeys = newKeyPair();
            X509Certificate listener = sign(
                    listenerCertificate(authority, listenerKeys.getPublic()), authorityKeys);
            return new PebbleCertificates(authority, listener, listenerKeys);
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new IllegalStateException("Could not create a certificate for Pebble's listener", e);
        }
    }

    /** {@return an SSL context that trusts only the authority of the listener certificate} */
    SSLContext trustContext() {
        return trustContext;
    }

    /**
     * Writes the authority certificate as PEM.
     *
     * @param file the file to write
     * @return {@code file}
     */
    Path writeTrust(Path file) {
        return writePem(file, authority);
    }

    /**
     * Writes the listener certificate as PEM, for Pebble's {@code certificate} setting.
     *
     * @param file the file to write
     * @return {@code file}
     */
    Path writeListenerCertificate(Path file) {
        return writePem(file, listener);
    }

    /**
     * Writes the listener's private key as unencrypted PKCS#8 PEM, for Pebble's
     * {@code privateKey} setting.
     *
     * @param file the file to write
     * @return {@code file}
     */
    Path writeListenerKey(Path file) {
        try {
            return writePem(file, new JcaPKCS8Generator(listenerKeys.getPrivate(), null));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not encode the listener key", e);
        }
    }

    /**
     * Builds an in-memory PKCS#12 key store holding certificates as trusted entries.
     *
     * @param certificates the certificates to trust
     * @param aliasPrefix the alias of each entry is this prefix followed by its index
     * @return the key store
     */
    static KeyStore trustStore(List<X509Certificate> certificates, String aliasPrefix) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry(aliasPrefix + i, certificates.get(i));
            }
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("Could not build a trust store", e);
        }
    }

    /**
     * Parses all certificates in a PEM text.
     *
     * @param pem one or more PEM certificate blocks
     * @return the certificates, in order
     * @throws GeneralSecurityException if the text holds no valid certificate
     */
    static List<X509Certificate> parseCertificates(String pem) throws GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> certificates = new ArrayList<>();
        factory.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
                .forEach(certificate -> certificates.add((X509Certificate) certificate));
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException("No certificate in PEM text");
        }
        return certificates;
    }

    private static SSLContext sslContextTrusting(List<X509Certificate> certificates) {
        try {
            TrustManagerFactory trustManagers =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trustStore(certificates, "pebble-listener-ca-"));
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagers.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Could not build an SSL context", e);
        }
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static X509v3CertificateBuilder authorityCertificate(X500Name name, KeyPair keys)
            throws GeneralSecurityException, CertIOException {
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        return newBuilder(name, name, keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                .addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
                .addExtension(Extension.subjectKeyIdentifier, false,
                        extensions.createSubjectKeyIdentifier(keys.getPublic()));
    }

    private static X509v3CertificateBuilder listenerCertificate(X509Certificate authority, PublicKey key)
            throws GeneralSecurityException, CertIOException {
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        GeneralNames names = new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "localhost"),
            ipAddressName("127.0.0.1"),
            ipAddressName("::1"),
        });
        X500Name issuer = X500Name.getInstance(authority.getSubjectX500Principal().getEncoded());
        return newBuilder(issuer, new X500Name("CN=localhost,O=Autocert Testkit"), key)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                .addExtension(Extension.subjectAlternativeName, false, names)
                .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(key))
                .addExtension(Extension.authorityKeyIdentifier, false,
                        extensions.createAuthorityKeyIdentifier(authority));
    }

    private static X509v3CertificateBuilder newBuilder(X500Name issuer, X500Name subject, PublicKey key) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(
                issuer,
                new BigInteger(64, RANDOM).add(BigInteger.ONE),
                Date.from(now.minus(CLOCK_SKEW)),
                Date.from(now.plus(LIFETIME)),
                subject,
                key);
    }

    private static GeneralName ipAddressName(String literal) throws GeneralSecurityException {
        try {
            // A literal address: no name lookup happens.
            return new GeneralName(GeneralName.iPAddress, new DEROctetString(InetAddress.getByName(literal).getAddress()));
        } catch (IOException e) {
            throw new GeneralSecurityException("Not an IP address literal: " + literal, e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signerKeys)
            throws OperatorCreationException, GeneralSecurityException {
        ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(signerKeys.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    private static Path writePem(Path file, Object object) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not encode PEM", e);
        }
        try {
            return Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write " + file, e);
        }
    }
}
