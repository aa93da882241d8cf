package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;
import org.shredzone.acme4j.toolbox.AcmeUtils;

/**
 * A private key with its certificate chain and the facts Autocert decides by: the names
 * covered, the validity, serial, issuer and the ARI certificate id (RFC 9773). Immutable and
 * thread-safe.
 *
 * <p>A key is either <em>real</em>, issued by a CA and stored as a lineage version, or a
 * {@linkplain #placeholder() placeholder}: self-signed, made in memory at start-up so that TLS
 * works until the real certificate arrives, and never stored.
 */
public final class CertifiedKey {

    private final String name;
    private final PrivateKey privateKey;
    private final List<X509Certificate> chain;
    private final List<String> names;
    private final boolean placeholder;
    private final int version;
    /** Computed once: the key manager reads it for every certificate whenever the served set changes. */
    private final String serial;

    private CertifiedKey(String name, PrivateKey privateKey, List<X509Certificate> chain, boolean placeholder, int version) {
        this.name = requireNonNull(name, "name");
        // a key from BouncyCastle's provider (algorithm "ECDSA") is neither matched as EC nor signed with by the JSSE
        this.privateKey = Pem.jdkPrivateKey(requireNonNull(privateKey, "privateKey"));
        this.chain = List.copyOf(chain);
        if (this.chain.isEmpty()) {
            throw new IllegalArgumentException("chain must hold at least the certificate itself");
        }
        this.names = dnsNames(this.chain.get(0));
        this.serial = this.chain.get(0).getSerialNumber().toString(16);
        this.placeholder = placeholder;
        this.version = version;
    }

    /**
     * A real certificate: {@code chain} starts with the certificate for {@code privateKey},
     * followed by its issuers. Whether the key matches is not checked here; see {@link #keyMatches()}.
     */
    public static CertifiedKey of(String name, PrivateKey privateKey, List<X509Certificate> chain) {
        return new CertifiedKey(name, privateKey, chain, false, 0);
    }

    static CertifiedKey placeholder(String name, PrivateKey privateKey, X509Certificate selfSigned) {
        return new CertifiedKey(name, privateKey, List.of(selfSigned), true, 0);
    }

    CertifiedKey withVersion(int version) {
        return new CertifiedKey(name, privateKey, chain, placeholder, version);
    }

    /** The managed certificate's name (its first domain). */
    public String name() {
        return name;
    }

    /** The private key. Never log it. */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /** The certificate, then its issuers, as the CA sent them (the root usually left out). */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The certificate itself, the first of {@link #chain()}. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The DNS names and IP addresses the certificate covers (its subject alternative names), IPv6 in RFC 5952 form. */
    public List<String> names() {
        return names;
    }

    /** The start of the validity period. */
    public Instant notBefore() {
        return certificate().getNotBefore().toInstant();
    }

    /** The end of the validity period. */
    public Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    /** The full validity period. */
    public Duration lifetime() {
        return Duration.between(notBefore(), notAfter());
    }

    /** The serial number, in lower-case hex. */
    public String serial() {
        return serial;
    }

    /** The issuer's distinguished name. */
    public String issuer() {
        return certificate().getIssuerX500Principal().getName(X500Principal.RFC2253);
    }

    /** The ARI certificate id (authority key identifier and serial, RFC 9773); empty for placeholders. */
    public Optional<String> ariCertId() {
        if (placeholder) {
            return Optional.empty();
        }
        try {
            return Optional.of(AcmeUtils.getRenewalUniqueIdentifier(certificate()));
        } catch (RuntimeException e) {
            return Optional.empty(); // no authority key identifier: the CA cannot do ARI for it
        }
    }

    /** Whether this is the self-signed stand-in served until the real certificate arrives. */
    public boolean placeholder() {
        return placeholder;
    }

    /** The lineage version this key was stored as (1, 2, …); 0 when not stored. */
    public int version() {
        return version;
    }

    /** Whether the certificate is valid at {@code now}. */
    public boolean validAt(Instant now) {
        return !now.isBefore(notBefore()) && now.isBefore(notAfter());
    }

    /** Whether exactly {@code domains} are covered, in any order. */
    boolean covers(Collection<String> domains) {
        return names.size() == domains.size() && names.containsAll(domains);
    }

    /**
     * Whether the private key belongs to the certificate and each certificate of the chain was
     * signed by the next one. Signs a random challenge, so it costs a few milliseconds.
     */
    public boolean keyMatches() {
        try {
            X509Certificate leaf = certificate();
            String algorithm = privateKey.getAlgorithm().startsWith("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            byte[] data = new byte[32];
            new SecureRandom().nextBytes(data);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(data);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(data);
            if (!verifier.verify(signature)) {
                return false;
            }
            for (int i = 0; i + 1 < chain.size(); i++) {
                chain.get(i).verify(chain.get(i + 1).getPublicKey());
            }
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** The DNS names and IP addresses {@code certificate} covers, as {@link #names()} gives them. */
    static List<String> namesOf(X509Certificate certificate) {
        return dnsNames(certificate);
    }

    private static List<String> dnsNames(X509Certificate certificate) {
        List<String> result = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        result.add(String.valueOf(san.get(1)).toLowerCase(java.util.Locale.ROOT));
                    } else if (Integer.valueOf(7).equals(san.get(0))) {
                        DomainNames.canonicalIp(String.valueOf(san.get(1))).ifPresent(result::add);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable SAN extension: the certificate covers no names we manage
        }
        return List.copyOf(result);
    }

    /** Name, names, serial and validity; never the key. */
    @Override
    public String toString() {
        return (placeholder ? "placeholder " : "") + name + names + " serial " + serial()
                + " valid " + notBefore() + " to " + notAfter()
                + (version > 0 ? " (version " + version + ")" : "");
    }

    static BigInteger randomSerial() {
        return new BigInteger(127, new SecureRandom()).add(BigInteger.ONE);
    }
}
