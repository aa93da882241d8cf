package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.shredzone.acme4j.Certificate;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.RevocationReason;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revokes stored certificates at the CA that issued them, and deletes lineages: the operator's
 * {@code autocert revoke} and {@code autocert delete}, as Certbot's.
 *
 * <p>Each works under the certificate's storage lock, the one an engine takes before it orders,
 * so it never races a renewal, and leaves storage so that every engine sharing it follows at its
 * next storage check (every few seconds), without a restart:
 * <ul>
 *   <li>a revoked current version is recorded in {@code renewal/NAME.properties}
 *       ({@code revoked-serial}, {@code revoked-at}, {@code revoked-reason}); an engine that
 *       serves it orders a new certificate at once, and keeps serving the revoked one meanwhile
 *       (no client is better served by a self-signed placeholder). A restarted engine reads the
 *       record too, and a stored revoked version is never taken as good;</li>
 *   <li>a deleted lineage is ordered anew by an engine configured for the name (which serves
 *       what it has until then), and dropped by one that obtained it on demand, so that its next
 *       handshake asks the on-demand policy again.</li>
 * </ul>
 *
 * <p>A revocation is signed with the ACME account stored for the CA, as Certbot does; when none
 * is stored, or the CA says the account may not revoke it, with the certificate's own private
 * key (RFC 8555 section 7.6), taken from the lineage or from the key file given. No account is
 * ever registered here: a new one would hold no authorization for the names. Each call is
 * independent; instances are thread-safe.
 */
public final class CertificateRevoker {

    private static final Logger LOG = LoggerFactory.getLogger(CertificateRevoker.class);

    /** How long a lock taken here outlives a holder that died: as the engine's. */
    private static final Duration LOCK_LEASE = Duration.ofMinutes(2);
    /** How long to wait while an engine holds the certificate's lock: it is ordering, which ends in seconds or fails. */
    private static final Duration LOCK_WAIT = Duration.ofMinutes(2);
    private static final Duration LOCK_POLL = Duration.ofMillis(200);
    private static final Pattern ARCHIVED_CERT = Pattern.compile(".*/cert(\\d+)\\.pem");

    private final AutocertSettings settings;
    private final Storage storage;
    private final Lineages lineages;
    private final Accounts accounts;
    private final AcmeSessions sessions;
    private final Clock clock;

    /**
     * A revoker on {@code storage}, reaching the CAs with the trust of {@code settings}
     * ({@code autocert.ca-trust}); {@code autocert.ca} is used only for a certificate file that
     * no lineage holds.
     */
    public CertificateRevoker(AutocertSettings settings, Storage storage) {
        this.settings = requireNonNull(settings, "settings");
        this.storage = requireNonNull(storage, "storage");
        this.lineages = new Lineages(storage);
        this.accounts = new Accounts(settings, storage);
        this.sessions = new AcmeSessions(settings);
        this.clock = Clock.systemUTC();
    }

    /**
     * What a revocation did.
     *
     * @param name      the lineage that holds the certificate; empty for a file no lineage holds
     * @param version   its version in the lineage, 0 when not in storage
     * @param serial    the certificate's serial number, lower-case hex
     * @param domains   the names on the certificate
     * @param ca        the CA's directory URL
     * @param reason    the reason sent to the CA
     * @param alreadyRevoked whether the CA said it was revoked before
     * @param withCertificateKey whether the request was signed with the certificate's key rather than the account's
     * @param replaced  whether the revocation was recorded for the lineage's current version, so
     *                  that engines sharing the storage order a new certificate
     * @param deleted   the storage keys deleted after the revocation, empty unless asked
     */
    public record Revocation(Optional<String> name, int version, String serial, List<String> domains, URI ca,
            RevocationReason reason, boolean alreadyRevoked, boolean withCertificateKey, boolean replaced, List<String> deleted) {

        public Revocation {
            requireNonNull(name, "name");
            requireNonNull(serial, "serial");
            domains = List.copyOf(domains);
            requireNonNull(ca, "ca");
            requireNonNull(reason, "reason");
            deleted = List.copyOf(deleted);
        }
    }

    /** The names of the lineages in storage, as {@code --cert-name} takes them. */
    public List<String> names() throws AutocertException {
        try {
            return lineages.names();
        } catch (IOException e) {
            throw new AutocertException("Cannot list the certificates in " + storage + ": " + e.getMessage(), e);
        }
    }

    /**
     * Revokes the current version of the lineage {@code name} ({@code *.example.com} and
     * {@code _.example.com} name the same one) at the CA its {@code renewal/NAME.properties}
     * records, then either records the revocation there or, with {@code delete}, deletes the
     * lineage.
     *
     * @throws AutocertException when no such lineage is stored, the CA cannot be reached or
     *     refuses, or storage fails; the message says which and what to do
     */
    public Revocation revoke(String name, RevocationReason reason, boolean delete) throws AutocertException {
        requireNonNull(reason, "reason");
        String storageName = storageName(requireNonNull(name, "name"));
        try (Storage.Lock lock = awaitLock(storageName)) {
            Lineages.Loaded loaded = lineages.load(storageName, storageName);
            X509Certificate certificate;
            Optional<KeyPair> key;
            URI ca;
            int version;
            if (loaded instanceof Lineages.Found found) {
                CertifiedKey stored = found.stored().key();
                certificate = stored.certificate();
                key = Optional.of(new KeyPair(certificate.getPublicKey(), stored.privateKey()));
                ca = found.stored().meta().ca();
                version = found.stored().meta().version();
            } else if (loaded instanceof Lineages.Damaged damaged) {
                // Its certificate may still be readable, and it is what clients were served: revoke it.
                version = damaged.version();
                Optional<byte[]> pem = version > 0 ? storage.load(Lineages.archiveKey(storageName, "cert", version)) : Optional.empty();
                URI recorded = recordedCa(storageName);
                if (pem.isEmpty() || recorded == null) {
                    throw AutocertException.noRetry("Certificate " + storageName + " in " + storage + " is damaged (" + damaged.reason()
                            + ") and its certificate cannot be read; revoke a file with --cert-path, or delete it");
                }
                certificate = Pem.decodeCertificates(pem.get()).get(0);
                key = Optional.empty();
                ca = recorded;
            } else {
                throw noSuchCertificate(name);
            }
            Signed signed = revokeAt(ca, certificate, key, false, reason);
            return finish(Optional.of(storageName), version, true, certificate, ca, reason, signed, delete);
        } catch (IOException e) {
            throw new AutocertException("Storage " + storage + " failed while revoking " + storageName + ": " + e.getMessage(), e);
        }
    }

    /**
     * Revokes the certificate in the PEM file {@code certificateFile} (its first certificate),
     * as {@code certbot revoke --cert-path}. When a lineage in storage holds it (any version),
     * that lineage's CA is used, its key can sign, and the revocation is recorded (or, with
     * {@code delete}, the lineage deleted) as by {@link #revoke(String, RevocationReason, boolean)};
     * otherwise it goes to the first {@code autocert.ca}.
     *
     * @param keyFile the certificate's private key (PEM), to sign the request with it rather than
     *     with the account
     * @throws AutocertException when a file cannot be read or does not match, the CA cannot be
     *     reached or refuses, or storage fails
     */
    public Revocation revoke(Path certificateFile, Optional<Path> keyFile, RevocationReason reason, boolean delete)
            throws AutocertException {
        requireNonNull(certificateFile, "certificateFile");
        requireNonNull(keyFile, "keyFile");
        requireNonNull(reason, "reason");
        X509Certificate certificate = readCertificate(certificateFile);
        Optional<KeyPair> givenKey = keyFile.isPresent() ? Optional.of(readKey(keyFile.get(), certificate, certificateFile)) : Optional.empty();
        Optional<Holder> holder = holderOf(certificate);
        if (holder.isEmpty()) {
            URI ca = settings.ca();
            Signed signed = revokeAt(ca, certificate, givenKey, givenKey.isPresent(), reason);
            return finish(Optional.empty(), 0, false, certificate, ca, reason, signed, false);
        }
        String storageName = holder.get().name();
        try (Storage.Lock lock = awaitLock(storageName)) {
            URI recorded = recordedCa(storageName);
            URI ca = recorded != null ? recorded : settings.ca();
            Optional<KeyPair> key = givenKey;
            if (key.isEmpty()) {
                key = storage.load(Lineages.archiveKey(storageName, "privkey", holder.get().version()))
                        .flatMap(Pem::decodePrivateKeyQuietly).map(k -> new KeyPair(certificate.getPublicKey(), k));
            }
            Signed signed = revokeAt(ca, certificate, key, givenKey.isPresent(), reason);
            Optional<Integer> current = lineages.head(storageName).flatMap(Lineages.Head::version);
            boolean isCurrent = current.isPresent() && current.get() == holder.get().version();
            return finish(Optional.of(storageName), holder.get().version(), isCurrent, certificate, ca, reason, signed, delete);
        } catch (IOException e) {
            throw new AutocertException("Storage " + storage + " failed while revoking " + storageName + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the lineage {@code name} from storage, under its lock: {@code renewal/NAME.properties},
     * {@code live/NAME}, every version in {@code archive/NAME} and its ARI and status records.
     * Nothing is revoked.
     *
     * @return the storage keys deleted
     * @throws AutocertException when nothing of the lineage is stored, or storage fails
     */
    public List<String> delete(String name) throws AutocertException {
        String storageName = storageName(requireNonNull(name, "name"));
        try (Storage.Lock lock = awaitLock(storageName)) {
            List<String> deleted = lineages.delete(storageName);
            if (deleted.isEmpty()) {
                throw noSuchCertificate(name);
            }
            return deleted;
        } catch (IOException e) {
            throw new AutocertException("Storage " + storage + " failed while deleting " + storageName + ": " + e.getMessage(), e);
        }
    }

    /** The lineage name as storage keys spell it: {@code *.example.com} is {@code _.example.com}. */
    static String storageName(String name) {
        return name.trim().toLowerCase(Locale.ROOT).replace('*', '_').replace(':', '_');
    }

    /** The RFC 5280 name of {@code reason}: {@code keyCompromise}, {@code cessationOfOperation}… */
    static String reasonName(RevocationReason reason) {
        String[] words = reason.name().toLowerCase(Locale.ROOT).split("_");
        StringBuilder name = new StringBuilder(words[0]);
        for (int i = 1; i < words.length; i++) {
            name.append(Character.toUpperCase(words[i].charAt(0))).append(words[i].substring(1));
        }
        return name.toString();
    }

    private Revocation finish(Optional<String> name, int version, boolean current, X509Certificate certificate, URI ca,
            RevocationReason reason, Signed signed, boolean delete) throws AutocertException {
        String serial = certificate.getSerialNumber().toString(16);
        List<String> domains = CertifiedKey.namesOf(certificate);
        boolean replaced = false;
        List<String> deleted = List.of();
        if (name.isPresent()) {
            try {
                if (delete) {
                    deleted = lineages.delete(name.get());
                } else if (current) {
                    replaced = lineages.markRevoked(name.get(), new Lineages.Revoked(serial, clock.instant(), reasonName(reason)));
                }
            } catch (IOException e) {
                throw new AutocertException("Certificate " + name.get() + " (serial " + serial + ") was revoked, but storage " + storage
                        + " failed to " + (delete ? "delete it" : "record it") + ": " + e.getMessage() + "; run the command again", e);
            }
        }
        return new Revocation(name, version, serial, domains, ca, reason, signed.alreadyRevoked(), signed.withCertificateKey(),
                replaced, deleted);
    }

    /** How the CA took the request. */
    private record Signed(boolean withCertificateKey, boolean alreadyRevoked) {
    }

    /**
     * Asks {@code ca} to revoke {@code certificate}: with the stored account unless
     * {@code preferKey}, falling back to the certificate's key when the account is missing or
     * not allowed to.
     */
    private Signed revokeAt(URI ca, X509Certificate certificate, Optional<KeyPair> key, boolean preferKey, RevocationReason reason)
            throws AutocertException {
        String serial = certificate.getSerialNumber().toString(16);
        String what = "Revoking serial " + serial + " at " + ca;
        try {
            Session session = sessions.open(ca);
            if (!preferKey) {
                Optional<Login> login;
                try {
                    login = accounts.storedLogin(session);
                } catch (AutocertException e) {
                    if (key.isEmpty()) {
                        throw e;
                    }
                    LOG.info("Cannot use the stored account at {} ({}); revoking with the certificate's key", ca, e.getMessage());
                    login = Optional.empty();
                }
                if (login.isPresent()) {
                    try {
                        Certificate.revoke(login.get(), certificate, reason);
                        LOG.info("Revoked serial {} at {} with the account ({})", serial, ca, reasonName(reason));
                        return new Signed(false, false);
                    } catch (AcmeServerException e) {
                        String type = AcmeFailures.type(e);
                        if (type.equals("alreadyRevoked")) {
                            return new Signed(false, true);
                        }
                        if (key.isEmpty() || !(type.equals("unauthorized") || type.equals("accountDoesNotExist"))) {
                            throw e;
                        }
                        LOG.info("The CA {} does not let the stored account revoke serial {} ({}); revoking with the certificate's key",
                                ca, serial, type);
                    }
                } else if (key.isEmpty()) {
                    throw AutocertException.noRetry(what + ": no ACME account for that CA is stored in " + storage
                            + ", and no private key of the certificate is at hand; give its key file (--key-path)");
                }
            }
            try {
                Certificate.revoke(session, key.orElseThrow(), certificate, reason);
                LOG.info("Revoked serial {} at {} with the certificate's key ({})", serial, ca, reasonName(reason));
                return new Signed(true, false);
            } catch (AcmeServerException e) {
                if (AcmeFailures.type(e).equals("alreadyRevoked")) {
                    return new Signed(true, true);
                }
                throw e;
            }
        } catch (AcmeException e) {
            throw AcmeFailures.translate(what + " failed", ca, e);
        } catch (RuntimeException e) {
            // acme4j reports some network and lazy-loading failures unchecked
            throw new AutocertException(what + " failed: " + AcmeFailures.network(ca, e), e);
        }
    }

    /** A lineage and the version that holds a certificate. */
    private record Holder(String name, int version) {
    }

    /** The lineage version whose certificate is {@code certificate}, looked for in every lineage's archive. */
    private Optional<Holder> holderOf(X509Certificate certificate) throws AutocertException {
        try {
            byte[] wanted = certificate.getEncoded();
            for (String name : lineages.names()) {
                for (String key : storage.list("archive/" + name)) {
                    var matcher = ARCHIVED_CERT.matcher(key);
                    if (!matcher.matches()) {
                        continue;
                    }
                    Optional<byte[]> pem = storage.load(key);
                    if (pem.isEmpty()) {
                        continue;
                    }
                    try {
                        if (Arrays.equals(Pem.decodeCertificates(pem.get()).get(0).getEncoded(), wanted)) {
                            return Optional.of(new Holder(name, Integer.parseInt(matcher.group(1))));
                        }
                    } catch (IOException | java.security.cert.CertificateEncodingException e) {
                        // a damaged version: not this one
                    }
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new AutocertException("Cannot read the certificates in " + storage + ": " + e.getMessage(), e);
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new AutocertException("The certificate cannot be encoded: " + e.getMessage(), e);
        }
    }

    /** The CA that {@code renewal/NAME.properties} records, or null when it cannot be read. */
    private URI recordedCa(String storageName) throws IOException {
        Optional<byte[]> bytes = storage.load(Lineages.metaKey(storageName));
        if (bytes.isEmpty()) {
            return null;
        }
        java.util.Properties p = new java.util.Properties();
        p.load(new java.io.ByteArrayInputStream(bytes.get()));
        String ca = p.getProperty("ca");
        try {
            return ca == null ? null : URI.create(ca);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static X509Certificate readCertificate(Path file) throws AutocertException {
        try {
            return Pem.decodeCertificates(Files.readAllBytes(file)).get(0);
        } catch (IOException e) {
            throw AutocertException.noRetry("Cannot read a certificate from '" + file + "': " + describe(e)
                    + "; give a PEM certificate file, such as live/NAME/cert.pem in the storage directory");
        }
    }

    private static KeyPair readKey(Path file, X509Certificate certificate, Path certificateFile) throws AutocertException {
        PrivateKey key;
        try {
            key = Pem.decodePrivateKey(Files.readAllBytes(file));
        } catch (IOException e) {
            throw AutocertException.noRetry("Cannot read a private key from '" + file + "': " + describe(e)
                    + "; give the certificate's PEM private key, such as live/NAME/privkey.pem");
        }
        if (!CertifiedKey.of("revoked", key, List.of(certificate)).keyMatches()) {
            throw AutocertException.noRetry("The private key in '" + file + "' does not belong to the certificate in '" + certificateFile
                    + "'; give the key of that certificate, or leave the key out to revoke with the stored account");
        }
        return new KeyPair(certificate.getPublicKey(), key);
    }

    private static String describe(IOException e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file"
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getMessage();
    }

    private AutocertException noSuchCertificate(String name) throws AutocertException {
        List<String> stored = names();
        return AutocertException.noRetry("No certificate named '" + name + "' in " + storage
                + (stored.isEmpty() ? " (it holds none)" : "; stored: " + String.join(", ", stored))
                + "; 'autocert certificates' lists them");
    }

    /** The certificate's lock, which an engine holds while it orders: waited for, since an order ends within seconds. */
    private Storage.Lock awaitLock(String storageName) throws AutocertException {
        // The lock CertificateManager takes before it orders the certificate.
        String lockName = "certificate-" + storageName;
        Instant deadline = clock.instant().plus(LOCK_WAIT);
        try {
            while (true) {
                Optional<Storage.Lock> lock = storage.tryLock(lockName, LOCK_LEASE);
                if (lock.isPresent()) {
                    return lock.get();
                }
                if (clock.instant().isAfter(deadline)) {
                    throw new AutocertException("Another process (a server ordering " + storageName + ", most likely) has held its lock in "
                            + storage + " for " + LOCK_WAIT.toMinutes() + " minutes; try again later");
                }
                Thread.sleep(LOCK_POLL.toMillis());
            }
        } catch (IOException e) {
            throw new AutocertException("Cannot take the lock of " + storageName + " in " + storage + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AutocertException("Interrupted while waiting for the lock of " + storageName, e);
        }
    }
}
