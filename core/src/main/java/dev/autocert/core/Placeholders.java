package dev.autocert.core;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes the self-signed certificate served for a name until its real one arrives, so that the
 * server can start and answer TLS at once. Made in memory, never stored.
 */
final class Placeholders {

    /** Short enough that nobody mistakes it for a real certificate, long enough to never expire in use. */
    private static final Duration VALIDITY = Duration.ofDays(7);

    private Placeholders() {
    }

    /** How long before it expires a placeholder still served is made anew. */
    static final Duration RENEW_BEFORE = Duration.ofDays(2);

    static CertifiedKey create(ManagedCertificate certificate) {
        return create(certificate.name(), certificate.domains(), Instant.now());
    }

    /** A placeholder named {@code name} (its key-store alias) for {@code identifiers}. */
    static CertifiedKey create(String name, java.util.List<String> identifiers, Instant now) {
        KeyPair keyPair = KeyType.EC_P256.generate();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "Autocert placeholder")
                .addRDN(BCStyle.CN, identifiers.get(0))
                .build();
        GeneralName[] names = identifiers.stream()
                .map(id -> new GeneralName(DomainNames.isIp(id) ? GeneralName.iPAddress : GeneralName.dNSName, id))
                .toArray(GeneralName[]::new);
        try {
            var builder = new JcaX509v3CertificateBuilder(subject, CertifiedKey.randomSerial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(VALIDITY)), subject, keyPair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate());
            X509Certificate x509 = new JcaX509CertificateConverter().getCertificate(builder.build(signer));
            return CertifiedKey.placeholder(name, keyPair.getPrivate(), x509);
        } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("Cannot make a placeholder certificate for " + identifiers, e);
        }
    }
}
