package dev.autocert.core;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.util.io.pem.PemObject;

/** PEM encoding of keys and certificates, in the forms Certbot writes and servers read. */
final class Pem {

    private Pem() {
    }

    static byte[] encode(Object... objects) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (Object object : objects) {
                writer.writeObject(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Encodes certificates in order, leaf first. */
    static byte[] encodeCertificates(List<X509Certificate> certificates) {
        return encode(certificates.toArray());
    }

    /** Encodes a private key as PKCS#8 ({@code BEGIN PRIVATE KEY}). */
    static byte[] encodePrivateKey(PrivateKey key) {
        return encode(new PemObject("PRIVATE KEY", key.getEncoded()));
    }

    /**
     * Encodes a key pair as a PKCS#8 {@code PRIVATE KEY} block followed by a {@code PUBLIC KEY}
     * block: the JDK's EC private keys do not carry their public key, so both are written.
     */
    static byte[] encodeKeyPair(KeyPair keyPair) {
        return encode(new PemObject("PRIVATE KEY", keyPair.getPrivate().getEncoded()),
                new PemObject("PUBLIC KEY", keyPair.getPublic().getEncoded()));
    }

    /** Decodes what {@link #encodeKeyPair} wrote. Never puts key material in a message. */
    static KeyPair decodeKeyPair(byte[] pem) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            PrivateKey privateKey = null;
            PublicKey publicKey = null;
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof PrivateKeyInfo info) {
                    privateKey = privateKey(info, converter);
                } else if (object instanceof SubjectPublicKeyInfo info) {
                    publicKey = publicKey(info, converter);
                }
            }
            if (privateKey == null || publicKey == null) {
                throw new IOException("expected a PRIVATE KEY and a PUBLIC KEY block");
            }
            return new KeyPair(publicKey, privateKey);
        } catch (RuntimeException e) {
            throw new IOException("unreadable key pair (" + e.getClass().getSimpleName() + ")");
        }
    }

    static List<X509Certificate> decodeCertificates(byte[] pem) throws IOException {
        try {
            List<X509Certificate> result = new ArrayList<>();
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (var certificate : factory.generateCertificates(new ByteArrayInputStream(pem))) {
                result.add((X509Certificate) certificate);
            }
            if (result.isEmpty()) {
                throw new IOException("no certificate in PEM data");
            }
            return result;
        } catch (CertificateException e) {
            throw new IOException("not a PEM certificate: " + e.getMessage(), e);
        }
    }

    /** Decodes a PKCS#8 or traditional (OpenSSL) private key. Never puts key material in a message. */
    /** The private key in {@code pem}, or empty when it cannot be parsed. */
    static java.util.Optional<PrivateKey> decodePrivateKeyQuietly(byte[] pem) {
        try {
            return java.util.Optional.of(decodePrivateKey(pem));
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    static PrivateKey decodePrivateKey(byte[] pem) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PrivateKeyInfo info) {
                return privateKey(info, converter);
            }
            if (object instanceof PEMKeyPair pair) {
                return privateKey(pair.getPrivateKeyInfo(), converter);
            }
            throw new IOException("no private key in PEM data");
        } catch (RuntimeException e) {
            throw new IOException("unreadable private key (" + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * The JDK's name for a key algorithm, and the JDK provider that makes such keys. BouncyCastle's
     * converter asks for a {@code KeyFactory} named after the OID ({@code ECDSA} for EC keys), which
     * only BC's provider offers: when an application registers BC, the keys would be BC keys
     * whose algorithm is {@code ECDSA}, which neither the key manager's type match nor the JSSE
     * accept as {@code EC}. Keys are therefore always made by the JDK's own providers.
     */
    private static final Map<ASN1ObjectIdentifier, String[]> JDK_ALGORITHMS = Map.of(
            PKCSObjectIdentifiers.rsaEncryption, new String[] {"RSA", "SunRsaSign"},
            PKCSObjectIdentifiers.id_RSASSA_PSS, new String[] {"RSASSA-PSS", "SunRsaSign"},
            X9ObjectIdentifiers.id_ecPublicKey, new String[] {"EC", "SunEC"},
            EdECObjectIdentifiers.id_Ed25519, new String[] {"Ed25519", "SunEC"},
            EdECObjectIdentifiers.id_Ed448, new String[] {"Ed448", "SunEC"},
            EdECObjectIdentifiers.id_X25519, new String[] {"X25519", "SunEC"},
            EdECObjectIdentifiers.id_X448, new String[] {"X448", "SunEC"},
            X9ObjectIdentifiers.id_dsa, new String[] {"DSA", "SUN"});

    /** A JDK key factory for the algorithm {@code id} names, or null when the JDK has none. */
    private static KeyFactory jdkKeyFactory(AlgorithmIdentifier id) {
        String[] algorithm = JDK_ALGORITHMS.get(id.getAlgorithm());
        if (algorithm == null) {
            return null;
        }
        Provider jdk = Security.getProvider(algorithm[1]);
        try {
            return jdk != null ? KeyFactory.getInstance(algorithm[0], jdk) : KeyFactory.getInstance(algorithm[0]);
        } catch (NoSuchAlgorithmException e) {
            return null;
        }
    }

    static PrivateKey privateKey(PrivateKeyInfo info, JcaPEMKeyConverter converter) throws IOException {
        KeyFactory factory = jdkKeyFactory(info.getPrivateKeyAlgorithm());
        if (factory != null) {
            try {
                return factory.generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
            } catch (GeneralSecurityException e) {
                // fall back to BouncyCastle's conversion below
            }
        }
        return converter.getPrivateKey(info);
    }

    static PublicKey publicKey(SubjectPublicKeyInfo info, JcaPEMKeyConverter converter) throws IOException {
        KeyFactory factory = jdkKeyFactory(info.getAlgorithm());
        if (factory != null) {
            try {
                return factory.generatePublic(new X509EncodedKeySpec(info.getEncoded()));
            } catch (GeneralSecurityException e) {
                // fall back to BouncyCastle's conversion below
            }
        }
        return converter.getPublicKey(info);
    }

    /**
     * {@code key} as a key of the JDK's own provider, so the JSSE can sign handshakes with it and
     * its algorithm has the JDK's name ({@code EC}, not BouncyCastle's {@code ECDSA}); {@code key}
     * itself when it cannot be converted (not extractable, or an algorithm the JDK lacks).
     */
    static PrivateKey jdkPrivateKey(PrivateKey key) {
        if (key == null || key.getClass().getName().startsWith("sun.")) {
            return key;
        }
        try {
            byte[] encoded = key.getEncoded();
            if (encoded == null || !"PKCS#8".equalsIgnoreCase(key.getFormat())) {
                return key;
            }
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(encoded);
            KeyFactory factory = jdkKeyFactory(info.getPrivateKeyAlgorithm());
            return factory == null ? key : factory.generatePrivate(new PKCS8EncodedKeySpec(encoded));
        } catch (GeneralSecurityException | RuntimeException e) {
            return key;
        }
    }
}
