package dev.autocert.core;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
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
                    privateKey = converter.getPrivateKey(info);
                } else if (object instanceof SubjectPublicKeyInfo info) {
                    publicKey = converter.getPublicKey(info);
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
                return converter.getPrivateKey(info);
            }
            if (object instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            throw new IOException("no private key in PEM data");
        } catch (RuntimeException e) {
            throw new IOException("unreadable private key (" + e.getClass().getSimpleName() + ")");
        }
    }
}
