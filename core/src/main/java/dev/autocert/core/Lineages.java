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
 * live/NAME/{cert,chain,fullchain,privkey}.pem      copies of the current version, for nginx, postfix…,
 *                                                   replaced as one set ({@link Storage#storeSet})
 * </pre>
 *
 * <p>Storing a version writes its archive files first and then {@code renewal/NAME.properties}
 * in one atomic write: that write is the commit, so a crash in between leaves the previous
 * version current. {@code live/} is written last, as one set, so no reader sees a key beside
 * another version's chain; it is for other programs, repaired at start when a crash left it
 * behind, and Autocert itself
 * loads from the archive.
 */
final class Lineages {

    private static final Logger LOG = LoggerFactory.getLogger(Lineages.class);
    private static final Pattern VERSION_FILE = Pattern.compile(".*/privkey(\\d+)\\.pem");
    /** The directories that hold one file per lineage, {@code DIR/NAME.EXT}, besides {@code renewal/}. */
    private static final List<String> RECORD_DIRECTORIES = List.of("ari", "status", "renewal-options");

    private final Storage storage;

    Lineages(Storage storage) {
        this.storage = requireNonNull(storage, "storage");
    }

    /**
     * What {@code renewal/NAME.properties} records of the current version.
     *
     * @param ari whether the CA offered ARI when it issued it
     * @param profile the ACME profile the order asked for, if any
     * @param digest the SHA-256 of the version's {@code privkey} and {@code fullchain} files as
     *     stored, after the key was checked against its chain; a load that finds the same bytes
     *     need not check again (a signature per certificate, the bulk of a large start-up)
     */
    record Meta(int version, URI ca, List<String> domains, KeyType keyType, Instant stored, boolean ari, Optional<String> profile,
            Optional<String> digest, Optional<Revoked> revoked) {

        /** What a version records before anything revokes it. */
        Meta(int version, URI ca, List<String> domains, KeyType keyType, Instant stored, boolean ari, Optional<String> profile,
                Optional<String> digest) {
            this(version, ca, domains, keyType, stored, ari, profile, digest, Optional.empty());
        }
    }

    /**
     * That the certificate with {@code serial} was revoked at its CA, as {@code autocert revoke}
     * records it in {@code renewal/NAME.properties} ({@code revoked-serial}, {@code revoked-at},
     * {@code revoked-reason}). It concerns the current version only while the serials match:
     * the next version's commit rewrites the file without it.
     *
     * @param reason the RFC 5280 reason name, such as {@code keyCompromise}
     */
    record Revoked(String serial, Instant at, String reason) {
    }

    /**
     * What a storage check needs of a lineage, from its one small renewal file.
     *
     * @param version the current version; empty when the file cannot be parsed
     * @param revokedSerial the serial recorded as revoked, if any
     */
    record Head(Optional<Integer> version, Optional<String> revokedSerial) {
    }

    /** What {@link #load} found. */
    sealed interface Loaded {
    }

    /** No version was ever stored under the name. */
    record Absent() implements Loaded {
    }

    /** The current version: intact, its key matching its chain. */
    record Found(Stored stored) implements Loaded {
    }

    /**
     * The current version cannot be used: {@code reason} says why (unparseable, a file missing, a
     * key that does not match its chain). Its files are left for a person to look at.
     */
    record Damaged(int version, String reason) implements Loaded {
    }

    /**
     * Loads the current version of the lineage {@code storageName}, for the managed certificate
     * {@code name}.
     *
     * @throws IOException when storage cannot be read: a passing failure, not damage, which the
     *     caller retries without ordering anew
     */
    Loaded load(String storageName, String name) throws IOException {
        Optional<byte[]> metaBytes = storage.load(metaKey(storageName));
        if (metaBytes.isEmpty()) {
            return new Absent();
        }
        Meta meta;
        try {
            meta = parseMeta(metaBytes.get());
        } catch (IOException e) {
            return new Damaged(0, metaKey(storageName) + " is unreadable: " + e.getMessage());
        }
        Optional<byte[]> fullchain = storage.load(archiveKey(storageName, "fullchain", meta.version()));
        Optional<byte[]> privkey = storage.load(archiveKey(storageName, "privkey", meta.version()));
        if (fullchain.isEmpty() || privkey.isEmpty()) {
            return new Damaged(meta.version(), archiveKey(storageName, fullchain.isEmpty() ? "fullchain" : "privkey", meta.version())
                    + " is missing");
        }
        CertifiedKey key;
        try {
            key = CertifiedKey.of(name, Pem.decodePrivateKey(privkey.get()), Pem.decodeCertificates(fullchain.get()))
                    .withVersion(meta.version());
        } catch (IOException | RuntimeException e) {
            return new Damaged(meta.version(), "version " + meta.version() + " cannot be parsed: " + e.getMessage());
        }
        boolean unchanged = meta.digest().filter(d -> d.equals(digest(privkey.get(), fullchain.get()))).isPresent();
        if (!unchanged && !key.keyMatches()) {
            return new Damaged(meta.version(), "privkey" + meta.version() + ".pem does not match fullchain" + meta.version() + ".pem");
        }
        return new Found(new Stored(key, meta));
    }

    /** The current version number of {@code storageName}, read cheaply; empty when there is none or it cannot be parsed. */
    Optional<Integer> currentVersion(String storageName) throws IOException {
        Optional<byte[]> metaBytes = storage.load(metaKey(storageName));
        if (metaBytes.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(parseMeta(metaBytes.get()).version());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** What {@code renewal/NAME.properties} of {@code storageName} records; empty when there is none or it cannot be parsed. */
    Optional<Meta> meta(String storageName) throws IOException {
        Optional<byte[]> metaBytes = storage.load(metaKey(storageName));
        if (metaBytes.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(parseMeta(metaBytes.get()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * The current version of {@code storageName} and the serial recorded as revoked, read
     * cheaply; empty when no lineage is stored under the name (never stored, or deleted).
     */
    Optional<Head> head(String storageName) throws IOException {
        Optional<byte[]> metaBytes = storage.load(metaKey(storageName));
        if (metaBytes.isEmpty()) {
            return Optional.empty();
        }
        try {
            Meta meta = parseMeta(metaBytes.get());
            return Optional.of(new Head(Optional.of(meta.version()), meta.revoked().map(Revoked::serial)));
        } catch (IOException e) {
            return Optional.of(new Head(Optional.empty(), Optional.empty()));
        }
    }

    /**
     * Records in {@code renewal/NAME.properties} that the certificate {@code revoked.serial()}
     * was revoked, keeping every other entry of the file; one atomic write. The caller holds the
     * certificate's lock, so no new version is committed in between.
     *
     * @return whether it was recorded: false when no lineage is stored under the name
     */
    boolean markRevoked(String storageName, Revoked revoked) throws IOException {
        Optional<byte[]> metaBytes = storage.load(metaKey(storageName));
        if (metaBytes.isEmpty()) {
            return false;
        }
        Properties p = new Properties();
        p.load(new ByteArrayInputStream(metaBytes.get()));
        p.setProperty("revoked-serial", revoked.serial());
        p.setProperty("revoked-at", revoked.at().toString());
        p.setProperty("revoked-reason", revoked.reason());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.store(out, "Autocert lineage: the current version and how it was ordered");
        storage.store(metaKey(storageName), out.toByteArray());
        return true;
    }

    /**
     * Deletes the lineage {@code storageName}: {@code renewal/NAME.properties} first (so a
     * reader finds no lineage rather than a damaged one), then {@code live/NAME}, every version
     * in {@code archive/NAME}, and its records in {@code ari/}, {@code status/} and {@code
     * renewal-options/} (the command line's). Nothing of
     * another lineage is touched. The caller holds the certificate's lock. Running it again after
     * a crash removes what is left.
     *
     * @return the keys deleted, empty when nothing of the lineage was stored
     */
    List<String> delete(String storageName) throws IOException {
        List<String> keys = new java.util.ArrayList<>();
        if (storage.load(metaKey(storageName)).isPresent()) {
            keys.add(metaKey(storageName));
        }
        keys.addAll(storage.list(liveKey(storageName)));
        keys.addAll(storage.list("archive/" + storageName));
        for (String directory : RECORD_DIRECTORIES) {
            for (String key : storage.list(directory)) {
                String file = key.substring(directory.length() + 1);
                int dot = file.lastIndexOf('.');
                if (!file.contains("/") && dot > 0 && file.substring(0, dot).equals(storageName)) {
                    keys.add(key);
                }
            }
        }
        List<String> deleted = new java.util.ArrayList<>();
        for (String key : keys) {
            if (storage.delete(key)) {
                deleted.add(key);
            }
        }
        if (!deleted.isEmpty()) {
            LOG.info("Deleted lineage {} from {}: {} files", storageName, storage, deleted.size());
        }
        return List.copyOf(deleted);
    }

    /**
     * Stores {@code key} as the next version of its lineage and makes it current.
     *
     * @return the key with its version number, and what was recorded of it
     */
    Stored store(ManagedCertificate certificate, CertifiedKey key, URI ca, KeyType keyType, boolean ari,
            Optional<String> profile) throws IOException {
        return store(certificate, key, ca, keyType, ari, profile, null);
    }

    /**
     * {@link #store(ManagedCertificate, CertifiedKey, URI, KeyType, boolean, Optional)} with every
     * write fenced by {@code guard} when it is not null: a holder that lost its lock meanwhile
     * writes nothing more ({@link LockLostException}), so it cannot overwrite the version the next
     * holder stored.
     */
    Stored store(ManagedCertificate certificate, CertifiedKey key, URI ca, KeyType keyType, boolean ari,
            Optional<String> profile, Storage.Lock guard) throws IOException {
        String name = certificate.storageName();
        int version = nextVersion(name);
        PemFiles files = PemFiles.of(key);
        if (!key.keyMatches()) {
            throw new IOException("the private key does not match the certificate chain; nothing was stored");
        }
        write(archiveKey(name, "privkey", version), files.privkey(), guard);
        write(archiveKey(name, "cert", version), files.cert(), guard);
        write(archiveKey(name, "chain", version), files.chain(), guard);
        write(archiveKey(name, "fullchain", version), files.fullchain(), guard);
        Meta meta = new Meta(version, ca, certificate.domains(), keyType, Instant.now(), ari, profile,
                Optional.of(digest(files.privkey(), files.fullchain())));
        write(metaKey(name), formatMeta(meta), guard); // the commit
        if (guard != null) {
            storage.storeSet(liveKey(name), files.asMap(), guard);
        } else {
            storage.storeSet(liveKey(name), files.asMap());
        }
        return new Stored(key.withVersion(version), meta);
    }

    private void write(String key, byte[] value, Storage.Lock guard) throws IOException {
        if (guard != null) {
            storage.store(key, value, guard);
        } else {
            storage.store(key, value);
        }
    }

    /**
     * Writes the archive files of {@code key} as version {@code version} of {@code storageName},
     * numbered as another client numbered it (an import), without making it current.
     */
    void storeArchived(String storageName, CertifiedKey key, int version) throws IOException {
        PemFiles files = PemFiles.of(key);
        storage.store(archiveKey(storageName, "privkey", version), files.privkey());
        storage.store(archiveKey(storageName, "cert", version), files.cert());
        storage.store(archiveKey(storageName, "chain", version), files.chain());
        storage.store(archiveKey(storageName, "fullchain", version), files.fullchain());
    }

    /**
     * Stores {@code key} as version {@code version} of its lineage and makes it current: archive
     * files, then {@code renewal/NAME.properties} (the commit), then {@code live/NAME}, as
     * {@link #store} does but keeping the number another client gave the version (an import).
     * ARI is not recorded as offered: the engine asks the CA's ARI from its own first renewal on.
     *
     * @throws IOException when the key does not match the chain (nothing is stored) or storage fails
     */
    Stored storeImported(ManagedCertificate certificate, CertifiedKey key, int version, URI ca, KeyType keyType) throws IOException {
        if (!key.keyMatches()) {
            throw new IOException("the private key of version " + version + " does not match its certificate chain; nothing was stored");
        }
        String name = certificate.storageName();
        storeArchived(name, key, version);
        PemFiles files = PemFiles.of(key);
        Meta meta = new Meta(version, ca, certificate.domains(), keyType, Instant.now(), false, Optional.empty(),
                Optional.of(digest(files.privkey(), files.fullchain())));
        storage.store(metaKey(name), formatMeta(meta)); // the commit
        storage.storeSet(liveKey(name), files.asMap());
        return new Stored(key.withVersion(version), meta);
    }

    /**
     * Makes {@code live/NAME} the files of {@code stored} again if it is not (missing, or left
     * behind by a crash between the commit and the copy); reports whether it had to.
     */
    boolean repairLive(String storageName, Stored stored) throws IOException {
        int version = stored.meta().version();
        if (liveMatches(storageName, version)) {
            return false;
        }
        storage.storeSet(liveKey(storageName), PemFiles.of(stored.key()).asMap());
        LOG.info("Repaired live/{}: it now holds version {} again, as renewal/{}.properties says", storageName, version, storageName);
        return true;
    }

    /** Whether {@code live/NAME} holds {@code version}'s certificate and key. */
    boolean liveMatches(String storageName, int version) throws IOException {
        String live = liveKey(storageName);
        return sameBytes(live + "/cert.pem", archiveKey(storageName, "cert", version))
                && sameBytes(live + "/privkey.pem", archiveKey(storageName, "privkey", version));
    }

    private boolean sameBytes(String a, String b) throws IOException {
        Optional<byte[]> first = storage.load(a);
        Optional<byte[]> second = storage.load(b);
        return first.isPresent() && second.isPresent() && java.util.Arrays.equals(first.get(), second.get());
    }

    static String digest(byte[] privkey, byte[] fullchain) {
        try {
            java.security.MessageDigest sha256 = java.security.MessageDigest.getInstance("SHA-256");
            sha256.update(privkey);
            sha256.update(fullchain);
            return java.util.HexFormat.of().formatHex(sha256.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** The four PEM files of a version, as Certbot writes them. */
    private record PemFiles(byte[] cert, byte[] chain, byte[] fullchain, byte[] privkey) {
        static PemFiles of(CertifiedKey key) {
            List<X509Certificate> chain = key.chain();
            return new PemFiles(Pem.encodeCertificates(chain.subList(0, 1)), Pem.encodeCertificates(chain.subList(1, chain.size())),
                    Pem.encodeCertificates(chain), Pem.encodePrivateKey(key.privateKey()));
        }

        java.util.Map<String, byte[]> asMap() {
            java.util.Map<String, byte[]> map = new java.util.LinkedHashMap<>();
            map.put("privkey.pem", privkey);
            map.put("cert.pem", cert);
            map.put("chain.pem", chain);
            map.put("fullchain.pem", fullchain);
            return map;
        }
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

    static String liveKey(String name) {
        return "live/" + name;
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
        meta.profile().ifPresent(profile -> p.setProperty("profile", profile));
        meta.digest().ifPresent(digest -> p.setProperty("digest", digest));
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
                    Instant.parse(p.getProperty("stored")), Boolean.parseBoolean(p.getProperty("ari")),
                    Optional.ofNullable(p.getProperty("profile")), Optional.ofNullable(p.getProperty("digest")),
                    Optional.ofNullable(p.getProperty("revoked-serial")).map(serial -> new Revoked(serial,
                            revokedAt(p.getProperty("revoked-at")), p.getProperty("revoked-reason", "unspecified"))));
        } catch (RuntimeException e) {
            throw new IOException("renewal properties are incomplete (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** When a revocation was recorded; a damaged time never makes the lineage damaged, since the revocation itself stands. */
    private static Instant revokedAt(String text) {
        try {
            return Instant.parse(text);
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    /** A stored version and its metadata. */
    record Stored(CertifiedKey key, Meta meta) {
        /**
         * Why this version cannot serve {@code certificate} as now configured for good, so that a
         * new one must be ordered; empty when it can. A version with a reason may still serve the
         * names it covers until its replacement arrives.
         */
        Optional<String> mismatch(ManagedCertificate certificate, List<URI> cas, KeyType keyType, Instant now) {
            Optional<Revoked> revoked = revoked();
            if (revoked.isPresent()) {
                return Optional.of("version " + meta.version() + " was revoked at " + revoked.get().at() + " ("
                        + revoked.get().reason() + ")");
            }
            if (!key.validAt(now)) {
                return Optional.of("version " + meta.version() + " is not valid now (" + key.notBefore() + " to " + key.notAfter() + ")");
            }
            List<String> added = certificate.domains().stream().filter(d -> !key.names().contains(d)).toList();
            List<String> removed = key.names().stream().filter(d -> !certificate.domains().contains(d)).toList();
            if (!added.isEmpty() || !removed.isEmpty()) {
                return Optional.of((added.isEmpty() ? "" : "names added to " + AutocertSettings.PREFIX + AutocertSettings.DOMAINS + ": " + added)
                        + (!added.isEmpty() && !removed.isEmpty() ? "; " : "")
                        + (removed.isEmpty() ? "" : "names removed: " + removed));
            }
            KeyType actual = KeyType.of(key.certificate().getPublicKey()).orElse(null);
            if (actual != keyType) {
                return Optional.of("its key is " + (actual == null ? "of another type" : actual.id()) + " but "
                        + AutocertSettings.PREFIX + AutocertSettings.KEY_TYPE + " is " + keyType.id());
            }
            if (cas.stream().noneMatch(ca -> AutocertSettings.sameCa(ca, meta.ca()))) {
                return Optional.of("it was issued through " + meta.ca() + ", which " + AutocertSettings.PREFIX
                        + AutocertSettings.CA + " no longer lists");
            }
            return Optional.empty();
        }

        /** That this version was revoked, when {@code renewal/NAME.properties} records it. */
        Optional<Revoked> revoked() {
            return meta.revoked().filter(r -> r.serial().equalsIgnoreCase(key.serial()));
        }

        /** The configured names this version covers and can serve now. */
        List<String> servable(ManagedCertificate certificate, Instant now) {
            return key.validAt(now) ? certificate.domains().stream().filter(key.names()::contains).toList() : List.of();
        }
    }
}
