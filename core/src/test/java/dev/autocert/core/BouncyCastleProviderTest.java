package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Security;
import java.security.interfaces.ECPrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Applications often register the BouncyCastle provider. Keys Autocert reads from PEM (a
 * Certbot import, a stored lineage) must still be keys the JSSE can sign handshakes with, and
 * be recognised by their JDK algorithm name ({@code EC}, not BC's {@code ECDSA}).
 */
class BouncyCastleProviderTest {

    private static boolean registered;

    @BeforeAll
    static void registerBouncyCastle() {
        if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null) {
            Security.addProvider(new BouncyCastleProvider());
            registered = true;
        }
    }

    @AfterAll
    static void removeBouncyCastle() {
        if (registered) {
            Security.removeProvider(BouncyCastleProvider.PROVIDER_NAME);
        }
    }

    /** PEM as Certbot writes it: PKCS#8 ({@code PRIVATE KEY}) or traditional ({@code EC PRIVATE KEY}, {@code RSA PRIVATE KEY}). */
    private static byte[] pem(PrivateKey key, boolean traditional) throws Exception {
        if (!traditional) {
            return Pem.encodePrivateKey(key);
        }
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        if (key instanceof ECPrivateKey ec) {
            // SEC 1 with the curve inside, as OpenSSL writes it
            var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, ec.getS(),
                    info.getPrivateKeyAlgorithm().getParameters());
            return Pem.encode(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
        }
        return Pem.encode(new PemObject("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded()));
    }

    /** A self-signed certificate for {@code name} with a fresh JDK key of {@code type}. */
    private static CertifiedKey selfSigned(String name, KeyType type) throws Exception {
        KeyPair keyPair = type.generate();
        X500Name subject = new X500Name("CN=" + name);
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))), subject, keyPair.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, name)));
        String algorithm = type == KeyType.EC_P256 ? "SHA256withECDSA" : "SHA256withRSA";
        X509Certificate certificate = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(keyPair.getPrivate())));
        return CertifiedKey.of(name, keyPair.getPrivate(), List.of(certificate));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ec-pkcs8", "ec-traditional", "rsa-pkcs8", "rsa-traditional"})
    void aKeyReadFromPemIsServedInARealHandshake(String form) throws Exception {
        String name = "bc.example.test";
        KeyType type = form.startsWith("ec") ? KeyType.EC_P256 : KeyType.RSA_2048;
        CertifiedKey placeholder = selfSigned(name, type);
        byte[] pem = pem(placeholder.privateKey(), form.endsWith("traditional"));
        assertTrue(new String(pem, StandardCharsets.US_ASCII).startsWith(
                form.endsWith("traditional") ? "-----BEGIN " + (type == KeyType.EC_P256 ? "EC" : "RSA") + " PRIVATE KEY-----"
                        : "-----BEGIN PRIVATE KEY-----"), "the PEM form under test");

        PrivateKey decoded = Pem.decodePrivateKey(pem);
        assertEquals(placeholder.privateKey().getAlgorithm(), decoded.getAlgorithm());
        assertTrue(decoded.getClass().getName().startsWith("sun."), "a JDK key, not " + decoded.getClass().getName());

        CertifiedKey key = CertifiedKey.of(name, decoded, placeholder.chain());
        assertTrue(key.keyMatches());
        assertEquals(decoded, key.privateKey());
        AtomicReference<CertificateSet> set = new AtomicReference<>(new CertificateSet(List.of(key)));
        try (LoopbackTlsServer server = new LoopbackTlsServer(new SniKeyManager(set::get))) {
            assertEquals(key.certificate(), server.served(name));
            assertEquals(key.certificate(), server.served(null));
        }
    }

    @org.junit.jupiter.api.Test
    void aKeyFromBouncyCastlesProviderIsServedAsAJdkKey() throws Exception {
        String name = "bc-key.example.test";
        CertifiedKey jdk = selfSigned(name, KeyType.EC_P256);
        PrivateKey bcKey = java.security.KeyFactory.getInstance("ECDSA", BouncyCastleProvider.PROVIDER_NAME)
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(jdk.privateKey().getEncoded()));
        assertEquals("ECDSA", bcKey.getAlgorithm(), "the key BC's provider makes");
        CertifiedKey key = CertifiedKey.of(name, bcKey, jdk.chain());
        assertEquals("EC", key.privateKey().getAlgorithm());
        AtomicReference<CertificateSet> set = new AtomicReference<>(new CertificateSet(List.of(key)));
        try (LoopbackTlsServer server = new LoopbackTlsServer(new SniKeyManager(set::get))) {
            assertEquals(key.certificate(), server.served(name));
        }
    }

    @org.junit.jupiter.api.Test
    void anAccountKeyPairReadFromPemIsAJdkKeyPair() throws Exception {
        KeyPair pair = KeyType.EC_P256.generate();
        KeyPair decoded = Pem.decodeKeyPair(Pem.encodeKeyPair(pair));
        assertEquals("EC", decoded.getPrivate().getAlgorithm());
        assertEquals("EC", decoded.getPublic().getAlgorithm());
        assertEquals(pair.getPublic(), decoded.getPublic());
    }
}
