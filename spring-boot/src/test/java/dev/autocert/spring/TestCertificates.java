package dev.autocert.spring;

import dev.autocert.core.CertifiedKey;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Real certificates made in the test, from a small test CA, for units that need one with a chosen validity. */
final class TestCertificates {

    private TestCertificates() {
    }

    /** A certificate for {@code names}, the first its name, valid from {@code notBefore} to {@code notAfter}. */
    static CertifiedKey issue(Instant notBefore, Instant notAfter, String... names) throws Exception {
        KeyPair ca = ecKeyPair();
        KeyPair leaf = ecKeyPair();
        X500Name issuer = new X500Name("CN=Autocert Test CA");
        X509Certificate caCertificate = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(issuer,
                BigInteger.ONE, Date.from(notBefore), Date.from(notAfter.plusSeconds(86_400)), issuer, ca.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
        GeneralName[] sans = new GeneralName[names.length];
        for (int i = 0; i < names.length; i++) {
            sans[i] = new GeneralName(GeneralName.dNSName, names[i]);
        }
        X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(issuer,
                new BigInteger(64, new SecureRandom()).add(BigInteger.TWO), Date.from(notBefore), Date.from(notAfter),
                new X500Name("CN=" + names[0]), leaf.getPublic())
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
        return CertifiedKey.of(names[0], leaf.getPrivate(), List.of(certificate, caCertificate));
    }

    private static KeyPair ecKeyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }
}
