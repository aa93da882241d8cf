package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Writes certificates into an Autocert storage directory as if Autocert had obtained them, fast:
 * for tests of servers that start with many stored certificates (thousands), without ordering
 * each from Pebble. A throwaway EC P-256 authority signs the leaves; all leaves share one key, so
 * that ten thousand take seconds, not minutes. Thread-safe.
 *
 * <pre>{@code
 * StoredCertificates stored = StoredCertificates.create();
 * for (int i = 0; i < 10_000; i++) {
 *     stored.store(storage, "n" + i + ".example.test", pebble.directoryUrl());
 * }
 * SSLContext trust = HttpsProbe.trusting(stored.trustStore());   // a client that trusts them
 * }</pre>
 *
 * <p>The layout is the one Autocert's file storage keeps ({@code docs/storage.md}): version 1 of
 * each lineage in {@code archive/NAME/}, its copy in {@code live/NAME/}, and
 * {@code renewal/NAME.properties}, recorded as issued through the CA the settings name (otherwise
 * the engine orders it anew from that CA), with the digest that spares the key check at start.
 */
public final class StoredCertificates {

    private static final Duration LIFETIME = Duration.ofDays(90);
    /** Signs several times faster than JDK 17's own ECDSA; used here only, never registered. */
    private static final BouncyCastleProvider BOUNCY_CASTLE = new BouncyCastleProvider();

    private final KeyPair authorityKey;
    private final X509Certificate authority;
    private final KeyPair leafKey;
    private final X500Name subject = new X500Name("CN=Autocert test kit authority");
    private final SecureRandom random = new SecureRandom();

    private StoredCertificates() throws GeneralSecurityException {
        authorityKey = newKey();
        leafKey = newKey();
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, BigInteger.ONE,
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(365))), subject, authorityKey.getPublic());
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            authority = new JcaX509CertificateConverter().getCertificate(builder.build(signer()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A new authority with a new key for its leaves.
     *
     * @return the writer
     * @throws IllegalStateException if the JDK cannot make EC keys
     */
    public static StoredCertificates create() {
        try {
            return new StoredCertificates();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot make a test authority", e);
        }
    }

    /** {@return the authority's certificate, the root a client must trust} */
    public X509Certificate authority() {
        return authority;
    }

    /** {@return a trust store holding {@link #authority()}, for {@link HttpsProbe#trusting(KeyStore)}} */
    public KeyStore trustStore() {
        return PebbleCertificates.trustStore(List.of(authority), "autocert-test-authority-");
    }

    /**
     * Issues a leaf for {@code name}, a DNS name or an IP address, valid from a day ago for 90 days.
     *
     * @param name the name on the certificate
     * @return the certificate
     */
    public X509Certificate issue(String name) {
        return issue(name, Instant.now().minus(Duration.ofDays(1)), LIFETIME);
    }

    /**
     * Issues a leaf for {@code name} valid from {@code notBefore} for {@code lifetime}: one near
     * its expiry, say, to see what renewal does when it fails.
     *
     * @return the certificate
     */
    public X509Certificate issue(String name, Instant notBefore, Duration lifetime) {
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, random).setBit(63),
                Date.from(notBefore), Date.from(notBefore.plus(lifetime)), new X500Name("CN=" + name.replace(':', '_')),
                leafKey.getPublic());
        boolean ip = name.matches("[0-9.]+") || name.contains(":");
        try {
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, name)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer()));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("Cannot issue a test certificate for " + name, e);
        }
    }

    /**
     * Stores a new leaf for {@code name} as version 1 of its lineage in the storage directory
     * {@code storage}, recorded as issued through {@code ca}.
     *
     * @param storage the directory of {@code autocert.storage}
     * @param name the certificate's only name, which is also its lineage's name
     * @param ca the directory URL the settings name in {@code autocert.ca}
     * @return the stored certificate
     * @throws IOException if the files cannot be written
     */
    public X509Certificate store(Path storage, String name, URI ca) throws IOException {
        return store(storage, name, ca, issue(name));
    }

    /**
     * Stores {@code leaf}, one of {@link #issue}'s, as {@link #store(Path, String, URI)} does.
     *
     * @return {@code leaf}
     * @throws IOException if the files cannot be written
     */
    public X509Certificate store(Path storage, String name, URI ca, X509Certificate leaf) throws IOException {
        byte[] cert;
        byte[] chain;
        try {
            cert = pem("CERTIFICATE", leaf.getEncoded());
            chain = pem("CERTIFICATE", authority.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        byte[] fullchain = concat(cert, chain);
        byte[] privkey = pem("PRIVATE KEY", leafKey.getPrivate().getEncoded());
        String lineage = name.replace('*', '_').replace(':', '_');
        for (String kind : List.of("archive", "live")) {
            Path dir = directory(storage.resolve(kind).resolve(lineage));
            String version = kind.equals("archive") ? "1" : "";
            Files.write(dir.resolve("cert" + version + ".pem"), cert);
            Files.write(dir.resolve("chain" + version + ".pem"), chain);
            Files.write(dir.resolve("fullchain" + version + ".pem"), fullchain);
            Files.write(dir.resolve("privkey" + version + ".pem"), privkey);
        }
        String meta = "version=1\n"
                + "ca=" + ca.toString().replace(":", "\\:") + "\n"
                + "domains=" + name.replace(":", "\\:") + "\n"
                + "key-type=ec-p256\n"
                + "stored=" + Instant.now().toString().replace(":", "\\:") + "\n"
                + "ari=false\n"
                + "digest=" + digest(privkey, fullchain) + "\n";
        Files.write(directory(storage.resolve("renewal")).resolve(lineage + ".properties"), meta.getBytes(StandardCharsets.ISO_8859_1));
        return leaf;
    }

    /**
     * Stores {@code count} certificates named {@code n0.DOMAIN}, {@code n1.DOMAIN}, … with
     * {@link #store}.
     *
     * @return their names, in order
     * @throws IOException if the files cannot be written
     */
    public List<String> storeMany(Path storage, int count, String domain, URI ca) throws IOException {
        List<String> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String name = "n" + i + "." + domain;
            store(storage, name, ca);
            names.add(name);
        }
        return names;
    }

    /** The digest Autocert records of a version's files: SHA-256 over the private key PEM, then the full chain PEM. */
    private static String digest(byte[] privkey, byte[] fullchain) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(privkey);
            sha256.update(fullchain);
            return HexFormat.of().formatHex(sha256.digest());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path directory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            directory(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                // made by another thread meanwhile
            }
        }
        return dir;
    }

    private ContentSigner signer() {
        try {
            return new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BOUNCY_CASTLE).build(authorityKey.getPrivate());
        } catch (OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static byte[] pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return ("-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
