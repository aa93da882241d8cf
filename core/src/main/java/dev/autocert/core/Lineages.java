package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every version of each certificate in {@link Storage}, the way Certbot lays out its
 * lineages, and says which is current.
 *
 * <pre>
 * archive/NAME/{cert,chain,fullchain,privkey}N.pem   version N, written once, never changed
 * renewal/NAME.properties                           version=N: the current one, and how it was ordered
 * live/NAME/{cert,chain,fullchain,privkey}.pem      copies of the current version, for nginx, postfix…
 * </pre>
 *
 * <p>Storing a version writes its archive files first and then {@code renewal/NAME.properties}
 * in one atomic write: that write is the commit, so a crash in between leaves the previous
 * version current. {@code live/} is written last; it is for other programs, and Autocert itself
 * loads from the archive.
 */
final class Lineages {

    private static final Logger LOG = LoggerFactory.getLogger(Lineages.class);
    private static final Pattern VERSION_FILE = Pattern.compile(".*/privkey(\\d+)\\.pem");

    private final Storage storage;

    Lineages(Storage storage) {
        this.storage = requireNonNull(storage, "storage");
    }

    /** What {@code renewal/NAME.properties} records of the current version; {@code ari} is whether the CA offered ARI when it issued it. */
    record Meta(int version, URI ca, List<String> domains, KeyType keyType, Instant stored, boolean ari) {
    }

    /**
     * Loads the current version of {@code certificate}, or empty when there is none or it cannot
     * be read. A damaged lineage is reported in one WARN line and treated as absent, which leads
     * to a new order; its files are left for a person to look at.
     */
    Optional<Stored> load(ManagedCertificate certificate) {
        String name = certificate.storageName();
        try {
            Optional<byte[]> metaBytes = storage.load(metaKey(name));
            if (metaBytes.isEmpty()) {
                return Optional.empty();
            }
            Meta meta = parseMeta(metaBytes.get());
            byte[] fullchain = storage.load(archiveKey(name, "fullchain", meta.version()))
                    .orElseThrow(() -> new IOException("fullchain" + meta.version() + ".pem is missing"));
            byte[] privkey = storage.load(archiveKey(name, "privkey", meta.version()))
                    .orElseThrow(() -> new IOException("privkey" + meta.version() + ".pem is missing"));
            CertifiedKey key = CertifiedKey.of(certificate.name(), Pem.decodePrivateKey(privkey), Pem.decodeCertificates(fullchain))
                    .withVersion(meta.version());
            if (!key.keyMatches()) {
                throw new IOException("privkey" + meta.version() + ".pem does not match fullchain" + meta.version() + ".pem");
            }
            return Optional.of(new Stored(key, meta));
        } catch (IOException | RuntimeException e) {
            LOG.warn("Stored certificate {} in {} is damaged and will be ordered anew: {}", name, storage, e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Stores {@code key} as the next version of its lineage and makes it current.
     *
     * @return the key with its version number
     */
    CertifiedKey store(ManagedCertificate certificate, CertifiedKey key, URI ca, KeyType keyType, boolean ari) throws IOException {
        String name = certificate.storageName();
        int version = nextVersion(name);
        List<X509Certificate> chain = key.chain();
        byte[] cert = Pem.encodeCertificates(chain.subList(0, 1));
        byte[] issuers = Pem.encodeCertificates(chain.subList(1, chain.size()));
        byte[] fullchain = Pem.encodeCertificates(chain);
        byte[] privkey = Pem.encodePrivateKey(key.privateKey());

        storage.store(archiveKey(name, "privkey", version), privkey);
        storage.store(archiveKey(name, "cert", version), cert);
        storage.store(archiveKey(name, "chain", version), issuers);
        storage.store(archiveKey(name, "fullchain", version), fullchain);
        Meta meta = new Meta(version, ca, certificate.domains(), keyType, Instant.now(), ari);
        storage.store(metaKey(name), formatMeta(meta)); // the commit

        storage.store(liveKey(name, "privkey"), privkey);
        storage.store(liveKey(name, "cert"), cert);
        storage.store(liveKey(name, "chain"), issuers);
        storage.store(liveKey(name, "fullchain"), fullchain);
        return key.withVersion(version);
    }

    /** The names of all lineages in storage. */
    List<String> names() throws IOException {
        return storage.list("renewal").stream()
                .map(key -> key.substring("renewal/".length()))
                .filter(file -> file.endsWith(".properties"))
                .map(file -> file.substring(0, file.length() - ".properties".length()))
                .toList();
    }

    private int nextVersion(String name) throws IOException {
        int max = 0;
        for (String key : storage.list("archive/" + name)) {
            Matcher m = VERSION_FILE.matcher(key);
            if (m.matches()) {
                max = Math.max(max, Integer.parseInt(m.group(1)));
            }
        }
        return max + 1;
    }

    static String archiveKey(String name, String kind, int version) {
        return "archive/" + name + "/" + kind + version + ".pem";
    }

    static String liveKey(String name, String kind) {
        return "live/" + name + "/" + kind + ".pem";
    }

    static String metaKey(String name) {
        return "renewal/" + name + ".properties";
    }

    private static byte[] formatMeta(Meta meta) {
        Properties p = new Properties();
        p.setProperty("version", Integer.toString(meta.version()));
        p.setProperty("ca", meta.ca().toString());
        p.setProperty("domains", String.join(",", meta.domains()));
        p.setProperty("key-type", meta.keyType().id());
        p.setProperty("stored", meta.stored().toString());
        p.setProperty("ari", Boolean.toString(meta.ari()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            p.store(out, "Autocert lineage: the current version and how it was ordered");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static Meta parseMeta(byte[] bytes) throws IOException {
        Properties p = new Properties();
        p.load(new ByteArrayInputStream(bytes));
        try {
            return new Meta(Integer.parseInt(p.getProperty("version")), URI.create(p.getProperty("ca")),
                    List.of(p.getProperty("domains").split(",")), KeyType.parse("key-type", p.getProperty("key-type")),
                    Instant.parse(p.getProperty("stored")), Boolean.parseBoolean(p.getProperty("ari")));
        } catch (RuntimeException e) {
            throw new IOException("renewal properties are incomplete (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** A stored version and its metadata. */
    record Stored(CertifiedKey key, Meta meta) {
        /** Whether this version can serve {@code certificate} as now configured. */
        boolean fits(ManagedCertificate certificate, URI ca, KeyType keyType, Instant now) {
            return key.validAt(now) && key.covers(certificate.domains()) && meta.ca().equals(ca)
                    && KeyType.of(key.certificate().getPublicKey()).orElse(null) == keyType;
        }
    }
}
