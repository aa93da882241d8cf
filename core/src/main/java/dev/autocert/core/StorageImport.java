package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Brings certificates and ACME accounts that another client obtained (Certbot's
 * {@code /etc/letsencrypt}, a backup) into {@link Storage}, in the layout the engine reads
 * ({@code docs/storage.md}). An engine started on the same storage with the same names then
 * serves them without ordering, renews them when due at the CA recorded here, and uses the
 * imported account at that CA instead of registering a new one.
 *
 * <p>Versions keep the numbers the other client gave them, and the engine's next version is one
 * more than the highest. A lineage is written under its certificate's storage lock, which
 * engines sharing the storage respect: older versions first, then the current one, whose
 * {@code renewal/NAME.properties} is the commit, so an engine that looks meanwhile finds either
 * no lineage or the whole import. Private keys are stored as the engine stores its own ({@link
 * FileStorage}: mode 0600). The CA's ARI is asked from the engine's first renewal on.
 *
 * <p>Safe for concurrent use as far as its storage is.
 */
public final class StorageImport {

    /** How long a lineage's lock outlives an importer that died: the engine's own lease. */
    private static final Duration LOCK_LEASE = Duration.ofMinutes(2);
    /** How long to wait for an engine that is ordering the same certificate. */
    private static final Duration LOCK_WAIT = Duration.ofSeconds(30);
    private static final Duration LOCK_POLL = Duration.ofMillis(200);

    private final Storage storage;
    private final Lineages lineages;
    private final Accounts accounts;

    /** Imports into {@code storage}; the caller has {@linkplain Storage#open() opened} it. */
    public StorageImport(Storage storage) {
        this.storage = requireNonNull(storage, "storage");
        this.lineages = new Lineages(storage);
        this.accounts = new Accounts(AutocertSettings.builder().buildWithoutCertificates(), storage);
    }

    /**
     * Reads a private key (PKCS#8 {@code PRIVATE KEY}, or OpenSSL's traditional {@code RSA} and
     * {@code EC PRIVATE KEY}) and its certificate chain (PEM, the certificate first, then its
     * issuers), as Certbot and most ACME clients write them ({@code privkey.pem},
     * {@code fullchain.pem}). Whether the key matches is not checked here: {@link
     * CertifiedKey#keyMatches()} does.
     *
     * @throws IOException when either cannot be parsed; the message never holds key material
     */
    public static CertifiedKey readPem(byte[] privateKeyPem, byte[] chainPem) throws IOException {
        var chain = Pem.decodeCertificates(requireNonNull(chainPem, "chainPem"));
        var key = Pem.decodePrivateKey(requireNonNull(privateKeyPem, "privateKeyPem"));
        CertifiedKey named = CertifiedKey.of("import", key, chain);
        return named.names().isEmpty() ? named : CertifiedKey.of(named.names().get(0), key, chain);
    }

    /**
     * The name storage keeps the certificate for {@code domains} under ({@code live/NAME},
     * {@code archive/NAME}, {@code renewal/NAME.properties}): the first name, with {@code *} and
     * {@code :} made {@code _}.
     */
    public static String lineageName(List<String> domains) {
        return ManagedCertificate.of(domains).storageName();
    }

    /** The {@code autocert.key-type} of {@code key}'s key; empty when no value of that setting makes such a key. */
    public static Optional<KeyType> keyType(CertifiedKey key) {
        return KeyType.of(key.certificate().getPublicKey());
    }

    /**
     * Whether storage holds a lineage for the certificate named {@code name} (its first domain):
     * a {@code renewal/NAME.properties}, whether its current version is intact or not.
     */
    public boolean hasLineage(String name) throws IOException {
        return storage.load(Lineages.metaKey(lineageName(List.of(name)))).isPresent();
    }

    /**
     * The current version stored for the certificate named {@code name}, with its version
     * number; empty when there is none or it is damaged.
     */
    public Optional<CertifiedKey> current(String name) throws IOException {
        return lineages.load(lineageName(List.of(name)), name) instanceof Lineages.Found found
                ? Optional.of(found.stored().key()) : Optional.empty();
    }

    /**
     * Stores the versions of a certificate as a lineage and makes {@code current} its current
     * version, issued through the ACME directory {@code ca}.
     *
     * @param domains  the certificate's names, its lineage name first, as {@code autocert.domains}
     *                 will list them
     * @param versions every version to keep, by number; each key must match its chain
     * @param current  the number of the version to serve; its key type is recorded as the
     *                 lineage's
     * @param ca       the directory URL the certificate came from, where the engine renews it
     *                 when {@code autocert.ca} lists it
     * @param replace  whether to replace a lineage already stored under the name (deleted
     *                 first, every version of it); when false such a lineage makes this fail
     * @return the current version as stored
     * @throws IllegalArgumentException when {@code current} is not among {@code versions}, a
     *     name is not one a CA certifies, a key does not match its chain, or the current key is
     *     of a type {@code autocert.key-type} cannot name
     * @throws IllegalStateException when a lineage is stored under the name and {@code replace}
     *     is false, or another process holds its lock for longer than 30 seconds
     * @throws IOException when storage fails
     */
    public CertifiedKey importLineage(List<String> domains, Map<Integer, CertifiedKey> versions, int current, URI ca,
            boolean replace) throws IOException {
        requireNonNull(ca, "ca");
        List<String> names = domains.stream()
                .map(d -> DomainNames.normalize(AutocertSettings.PREFIX + AutocertSettings.DOMAINS, d)).toList();
        ManagedCertificate certificate = ManagedCertificate.of(names);
        TreeMap<Integer, CertifiedKey> sorted = new TreeMap<>(versions);
        CertifiedKey currentKey = sorted.remove(current);
        if (currentKey == null) {
            throw new IllegalArgumentException("version " + current + " is not among the versions given: " + versions.keySet());
        }
        KeyType keyType = keyType(currentKey).orElseThrow(() -> new IllegalArgumentException("the key of version " + current
                + " is " + describe(currentKey) + ", which no value of " + AutocertSettings.PREFIX + AutocertSettings.KEY_TYPE
                + " (" + KeyType.allIds() + ") makes"));
        for (Map.Entry<Integer, CertifiedKey> version : versions.entrySet()) {
            if (version.getKey() < 1) {
                throw new IllegalArgumentException("version numbers start at 1, but " + version.getKey() + " was given");
            }
            if (!version.getValue().keyMatches()) {
                throw new IllegalArgumentException("the private key of version " + version.getKey() + " does not match its certificate chain");
            }
        }
        String name = certificate.storageName();
        try (Storage.Lock lock = awaitLock("certificate-" + name)) {
            if (storage.load(Lineages.metaKey(name)).isPresent() && !replace) {
                throw new IllegalStateException("storage already holds a certificate " + certificate.name()
                        + " (renewal/" + name + ".properties)");
            }
            lineages.delete(name); // with replace, the old lineage; without, what a crashed import left
            for (Map.Entry<Integer, CertifiedKey> version : sorted.entrySet()) {
                lineages.storeArchived(name, rename(version.getValue(), certificate), version.getKey());
            }
            return lineages.storeImported(certificate, rename(currentKey, certificate), current, ca, keyType).key();
        }
    }

    /** The URL of the account stored for the ACME directory {@code ca}; empty when none is registered there yet. */
    public Optional<URI> accountLocation(URI ca) throws IOException {
        try {
            return accounts.stored(requireNonNull(ca, "ca")).flatMap(Accounts.StoredAccount::location);
        } catch (AutocertException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Stores an account registered elsewhere as the account at the ACME directory {@code ca}:
     * its key pair and its URL ({@code location}, the account's URL at the CA), replacing the
     * one stored there, under the account's lock. An engine then logs in with it by its URL,
     * without a registration request.
     */
    public void importAccount(URI ca, KeyPair keyPair, URI location) throws IOException {
        requireNonNull(ca, "ca");
        requireNonNull(keyPair, "keyPair");
        requireNonNull(location, "location");
        try (Storage.Lock lock = accounts.lock(ca)) {
            accounts.storeImported(ca, keyPair, location);
        }
    }

    private static CertifiedKey rename(CertifiedKey key, ManagedCertificate certificate) {
        return CertifiedKey.of(certificate.name(), key.privateKey(), key.chain());
    }

    private static String describe(CertifiedKey key) {
        var publicKey = key.certificate().getPublicKey();
        if (publicKey instanceof java.security.interfaces.RSAPublicKey rsa) {
            return "RSA " + rsa.getModulus().bitLength();
        }
        if (publicKey instanceof java.security.interfaces.ECPublicKey ec) {
            return "EC " + ec.getParams().getCurve().getField().getFieldSize();
        }
        return publicKey.getAlgorithm();
    }

    private Storage.Lock awaitLock(String name) throws IOException {
        long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
        while (true) {
            Optional<Storage.Lock> lock = storage.tryLock(name, LOCK_LEASE);
            if (lock.isPresent()) {
                return lock.get();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("another process has held the lock " + name + " in " + storage + " for "
                        + LOCK_WAIT.toSeconds() + " s (a server ordering that certificate); try again in a few minutes");
            }
            try {
                Thread.sleep(LOCK_POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the lock " + name);
            }
        }
    }
}
