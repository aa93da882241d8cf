package dev.autocert.core;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Answers TLS-ALPN-01 (RFC 8737): {@link #present} makes the challenge certificate for the name
 * being validated (self-signed, its only name the identifier, and the critical
 * {@code acmeIdentifier} extension holding the SHA-256 of the key authorization), and the
 * {@link SniKeyManager} serves it to a handshake that negotiated ALPN {@code acme-tls/1} for that
 * name; {@link #cleanUp} forgets it. The CA connects to port 443 of the name, so the server's HTTPS
 * connector must be reachable there.
 *
 * <p>An IP address is validated under its reverse-DNS name as SNI (RFC 8738 section 6:
 * {@code 4.3.2.1.in-addr.arpa}, or the nibbles under {@code ip6.arpa}). Thread-safe: the
 * certificates are held in a concurrent map, read lock-free by handshakes.
 */
final class TlsAlpn01Solver implements ChallengeSolver {

    /** The ALPN protocol of TLS-ALPN-01 validation (RFC 8737 section 6.2). */
    static final String ACME_TLS_1 = "acme-tls/1";
    /** The prefix of the aliases the key manager gives challenge certificates; no real certificate's alias has it. */
    static final String ALIAS_PREFIX = ACME_TLS_1 + "#";

    /** The acmeIdentifier extension (RFC 8737 section 6.1). */
    static final ASN1ObjectIdentifier ACME_IDENTIFIER = new ASN1ObjectIdentifier("1.3.6.1.5.5.7.1.31");
    /** The CA looks at the certificate once, within minutes; a day covers any clock skew. */
    private static final Duration VALIDITY = Duration.ofDays(1);

    /** A challenge certificate, as the key manager serves it. */
    record Challenge(String token, String alias, PrivateKey privateKey, X509Certificate certificate) {
    }

    /** The challenge certificates being validated, by SNI host name (lower case). */
    private final Map<String, Challenge> byServerName = new ConcurrentHashMap<>();
    /** The same, by alias. */
    private final Map<String, Challenge> byAlias = new ConcurrentHashMap<>();

    @Override
    public ChallengeType type() {
        return ChallengeType.TLS_ALPN_01;
    }

    @Override
    public void present(ChallengeData challenge) throws AutocertException {
        String serverName = serverName(challenge.domain());
        // A fresh key per challenge: it signs one handshake with the CA and is forgotten.
        KeyPair keyPair = KeyType.EC_P256.generate();
        X509Certificate certificate = certificate(challenge.domain(), keyPair, acmeValidation(challenge.keyAuthorization()));
        Challenge made = new Challenge(challenge.token(), ALIAS_PREFIX + serverName + "#" + challenge.token(), keyPair.getPrivate(), certificate);
        byAlias.put(made.alias(), made);
        Challenge replaced = byServerName.put(serverName, made);
        if (replaced != null) {
            byAlias.remove(replaced.alias(), replaced);
        }
    }

    @Override
    public void cleanUp(ChallengeData challenge) {
        String serverName = serverName(challenge.domain());
        Challenge removed = byServerName.get(serverName);
        if (removed != null && removed.token().equals(challenge.token()) && byServerName.remove(serverName, removed)) {
            byAlias.remove(removed.alias(), removed);
        }
    }

    /**
     * The challenge certificate (RFC 8737 section 3): self-signed, {@code identifier} its only
     * subject alternative name, and the critical acmeIdentifier extension. Made here rather than
     * by acme4j's {@code CertificateUtils}, which signs only with RSA keys, slow to generate.
     */
    static X509Certificate certificate(String identifier, KeyPair keyPair, byte[] acmeValidation) throws AutocertException {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, "acme-tls/1 challenge").build();
        GeneralName name = new GeneralName(DomainNames.isIp(identifier) ? GeneralName.iPAddress : GeneralName.dNSName, identifier);
        Instant now = Instant.now();
        try {
            var builder = new JcaX509v3CertificateBuilder(subject, CertifiedKey.randomSerial(),
                    Date.from(now.minus(VALIDITY)), Date.from(now.plus(VALIDITY)), subject, keyPair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(name));
            builder.addExtension(ACME_IDENTIFIER, true, new DEROctetString(acmeValidation));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new AutocertException("Cannot make the TLS-ALPN-01 certificate for " + identifier + ": " + e.getMessage(), e);
        }
    }

    /** Whether no challenge is being validated: the key manager's fast path. */
    boolean isEmpty() {
        return byServerName.isEmpty();
    }

    /** The challenge for an SNI host name, or null. */
    Challenge forServerName(String serverName) {
        return serverName == null ? null : byServerName.get(serverName.toLowerCase(Locale.ROOT));
    }

    /** The challenge an alias names, or null. */
    Challenge forAlias(String alias) {
        return byAlias.get(alias);
    }

    /**
     * The SNI host name the CA sends for {@code identifier}: the name itself, or for an IP address
     * its reverse-DNS name (RFC 8738 section 6).
     */
    static String serverName(String identifier) {
        if (!DomainNames.isIp(identifier)) {
            return identifier.toLowerCase(Locale.ROOT);
        }
        byte[] address;
        try {
            address = InetAddress.getByName(identifier).getAddress(); // a literal: never resolved
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + identifier, e);
        }
        StringBuilder name = new StringBuilder();
        if (address.length == 4) {
            for (int i = 3; i >= 0; i--) {
                name.append(address[i] & 0xff).append('.');
            }
            return name.append("in-addr.arpa").toString();
        }
        for (int i = address.length - 1; i >= 0; i--) {
            name.append(Character.forDigit(address[i] & 0xf, 16)).append('.')
                    .append(Character.forDigit((address[i] >> 4) & 0xf, 16)).append('.');
        }
        return name.append("ip6.arpa").toString();
    }

    /** The {@code acmeIdentifier} extension's value: the SHA-256 of the key authorization (RFC 8737 section 3). */
    static byte[] acmeValidation(String keyAuthorization) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(keyAuthorization.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
