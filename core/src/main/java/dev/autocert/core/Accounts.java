package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.exception.AcmeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ACME account at each configured CA: its key created on first use and kept in storage
 * ({@code accounts/CA/account.key}), registered once with {@code newAccount} (RFC 8555 section
 * 7.3), and from then on used by the URL stored beside it ({@code account.properties}), without
 * another {@code newAccount} round trip, which single-use external account binding credentials
 * would not survive. Its contact is kept in step with {@code autocert.email}.
 */
final class Accounts {

    private static final Logger LOG = LoggerFactory.getLogger(Accounts.class);

    private final AutocertSettings settings;
    private final Storage storage;

    Accounts(AutocertSettings settings, Storage storage) {
        this.settings = requireNonNull(settings, "settings");
        this.storage = requireNonNull(storage, "storage");
    }

    /** A storage-safe directory name for the CA: host, port and path, as Certbot does. */
    static String caDirectoryName(URI ca) {
        URI canonical = URI.create(AutocertSettings.canonicalCa(ca));
        String path = canonical.getPath() == null ? "" : canonical.getPath();
        String name = canonical.getHost() + (canonical.getPort() > 0 ? "_" + canonical.getPort() : "") + path.replace('/', '_');
        return name.replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("_+$", "").toLowerCase(Locale.ROOT);
    }

    private static String directory(URI ca) {
        return "accounts/" + caDirectoryName(ca);
    }

    /**
     * Checks, without the network, that the stored account key of {@code ca} can be read.
     *
     * @return what is wrong and how to fix it, or empty when the key is fine or not made yet
     * @throws IOException when storage cannot be read
     */
    Optional<String> checkKey(URI ca) throws IOException {
        String keyName = directory(ca) + "/account.key";
        Optional<byte[]> stored = storage.load(keyName);
        if (stored.isEmpty()) {
            return Optional.empty();
        }
        try {
            Pem.decodeKeyPair(stored.get());
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.of(damagedKey(keyName));
        }
    }

    private String damagedKey(String keyName) {
        return "The ACME account key " + keyName + " in " + storage + " is damaged; restore it from a backup, "
                + "or move it away (with account.properties beside it) to register a new account at the next order";
    }

    /**
     * Logs in to the account at the CA of {@code session}: by its stored URL when it has one,
     * otherwise registering it (and creating its key) first.
     */
    Login login(Session session) throws AutocertException {
        URI ca = session.getServerUri();
        String dir = directory(ca);
        try {
            KeyPair keyPair = loadOrCreateKey(dir);
            Properties info = loadInfo(dir);
            String location = info.getProperty("location");
            Login login;
            if (location != null && !location.isBlank()) {
                login = session.login(URI.create(location).toURL(), keyPair);
                if (settings.email().isPresent() && !wantedContact().equals(info.getProperty("contact", ""))) {
                    updateContact(login.getAccount());
                    storeInfo(dir, ca, login.getAccount());
                }
                LOG.debug("Using account {} at {}", location, ca);
                return login;
            }
            login = register(session, keyPair);
            updateContact(login.getAccount());
            storeInfo(dir, ca, login.getAccount());
            LOG.info("Registered ACME account {} at {}", login.getAccount().getLocation(), ca);
            return login;
        } catch (AcmeException e) {
            throw AcmeFailures.translate("Account at " + ca + " failed", ca, e);
        } catch (IOException e) {
            throw new AutocertException("Cannot read or write the account in " + storage + ": " + e.getMessage(), e);
        }
    }

    /**
     * Logs in to the account stored for the CA of {@code session} without ever registering one
     * (for revocation, where a new account would hold no authorization): by its stored URL, or,
     * when only its key is stored, by asking the CA for the account of that key.
     *
     * @return empty when no account key is stored for the CA
     * @throws AutocertException when the stored key is damaged, or the CA cannot be asked or
     *     knows no account for the key
     */
    Optional<Login> storedLogin(Session session) throws AutocertException {
        URI ca = session.getServerUri();
        String dir = directory(ca);
        try {
            Optional<byte[]> stored = storage.load(dir + "/account.key");
            if (stored.isEmpty()) {
                return Optional.empty();
            }
            KeyPair keyPair;
            try {
                keyPair = Pem.decodeKeyPair(stored.get());
            } catch (IOException | RuntimeException e) {
                throw AutocertException.noRetry(damagedKey(dir + "/account.key"));
            }
            String location = loadInfo(dir).getProperty("location");
            if (location != null && !location.isBlank()) {
                return Optional.of(session.login(URI.create(location).toURL(), keyPair));
            }
            return Optional.of(new AccountBuilder().useKeyPair(keyPair).onlyExisting().createLogin(session));
        } catch (AcmeException e) {
            throw AcmeFailures.translate("Account at " + ca + " failed", ca, e);
        } catch (IOException e) {
            throw new AutocertException("Cannot read the account in " + storage + ": " + e.getMessage(), e);
        }
    }

    /**
     * Forgets the stored URL of the account at {@code ca}, after the CA said it does not know it
     * (a test CA that restarted, an account deactivated elsewhere): the next login registers the
     * same key again.
     */
    void forgetLocation(URI ca) throws IOException {
        String dir = directory(ca);
        Properties info = loadInfo(dir);
        if (info.remove("location") != null) {
            writeInfo(dir, info);
            LOG.info("The CA {} does not know the stored account; registering it again", ca);
        }
    }

    private Login register(Session session, KeyPair keyPair) throws AcmeException, AutocertException {
        checkTerms(session);
        AccountBuilder builder = new AccountBuilder().useKeyPair(keyPair);
        settings.email().ifPresent(builder::addEmail);
        if (settings.agreeTos()) {
            builder.agreeToTermsOfService();
        }
        // With several CAs, the binding goes only to those that ask for one.
        if (settings.eabKid().isPresent() && (settings.cas().size() == 1 || session.getMetadata().isExternalAccountRequired())) {
            builder.withKeyIdentifier(settings.eabKid().get(), settings.eabHmacKey().orElseThrow());
        }
        return builder.createLogin(session);
    }

    private void checkTerms(Session session) throws AcmeException, AutocertException {
        URI ca = session.getServerUri();
        Optional<URI> terms = session.getMetadata().getTermsOfService();
        if (terms.isPresent() && !settings.agreeTos()) {
            throw AutocertException.noRetry(AutocertSettings.PREFIX + AutocertSettings.AGREE_TOS + ": the CA "
                    + ca + " requires accepting its terms of service at " + terms.get()
                    + "; read them and set " + AutocertSettings.PREFIX + AutocertSettings.AGREE_TOS + "=true");
        }
        if (session.getMetadata().isExternalAccountRequired() && settings.eabKid().isEmpty()) {
            throw AutocertException.noRetry(AutocertSettings.PREFIX + AutocertSettings.EAB_KID + ": the CA "
                    + ca + " requires external account binding; set " + AutocertSettings.PREFIX
                    + AutocertSettings.EAB_KID + " and " + AutocertSettings.PREFIX + AutocertSettings.EAB_HMAC_KEY);
        }
    }

    private KeyPair loadOrCreateKey(String dir) throws IOException, AutocertException {
        String keyName = dir + "/account.key";
        Optional<byte[]> stored = storage.load(keyName);
        if (stored.isPresent()) {
            try {
                return Pem.decodeKeyPair(stored.get());
            } catch (IOException | RuntimeException e) {
                throw AutocertException.noRetry(damagedKey(keyName));
            }
        }
        // Two processes starting together may both get here; the lock makes one create the key
        // and the other read it.
        try (Storage.Lock lock = awaitLock(dir)) {
            Optional<byte[]> again = storage.load(keyName);
            if (again.isPresent()) {
                return loadOrCreateKey(dir);
            }
            KeyPair keyPair = KeyType.EC_P256.generate();
            storage.store(keyName, Pem.encodeKeyPair(keyPair));
            LOG.debug("Created a new ACME account key in {}", dir);
            return keyPair;
        }
    }

    private Storage.Lock awaitLock(String dir) throws IOException {
        String lockName = "account-" + dir.substring("accounts/".length());
        for (int i = 0; i < 300; i++) {
            Optional<Storage.Lock> lock = storage.tryLock(lockName, Duration.ofMinutes(1));
            if (lock.isPresent()) {
                return lock.get();
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("Interrupted while waiting for lock " + lockName);
            }
        }
        throw new IOException("Lock " + lockName + " stayed held for 30 s");
    }

    private String wantedContact() {
        return settings.email().map(e -> "mailto:" + e).orElse("");
    }

    private void updateContact(Account account) throws AcmeException {
        List<URI> wanted = settings.email().map(e -> List.of(URI.create("mailto:" + e))).orElse(List.of());
        if (!wanted.isEmpty() && !account.getContacts().equals(wanted)) {
            var edit = account.modify();
            edit.getContacts().clear();
            edit.getContacts().addAll(wanted);
            edit.commit();
            LOG.info("Updated the ACME account contact to {}", wanted.get(0).getSchemeSpecificPart());
        }
    }

    private Properties loadInfo(String dir) throws IOException {
        Properties info = new Properties();
        Optional<byte[]> stored = storage.load(dir + "/account.properties");
        if (stored.isPresent()) {
            info.load(new ByteArrayInputStream(stored.get()));
        }
        return info;
    }

    private void storeInfo(String dir, URI ca, Account account) throws IOException {
        Properties info = new Properties();
        info.setProperty("location", account.getLocation().toString());
        info.setProperty("ca", ca.toString());
        info.setProperty("contact", account.getContacts().stream().map(URI::toString).reduce((a, b) -> a + "," + b).orElse(""));
        if (!loadInfo(dir).equals(info)) {
            writeInfo(dir, info);
        }
    }

    private void writeInfo(String dir, Properties info) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        info.store(out, "Autocert ACME account");
        storage.store(dir + "/account.properties", out.toByteArray());
    }

    // ---- The stored account by hand, for AccountManager, and whether a login is still current.

    /** The storage key of the account key at {@code ca}. */
    static String keyName(URI ca) {
        return directory(ca) + "/account.key";
    }

    /** The storage key of the account's URL and contact at {@code ca}. */
    static String infoName(URI ca) {
        return directory(ca) + "/account.properties";
    }

    /** Where a key rollover keeps the new key until the CA has accepted it (see {@link AccountManager#rollOverKey()}). */
    static String pendingKeyName(URI ca) {
        return directory(ca) + "/account-rollover.key";
    }

    /** What storage holds of the account at a CA: its key, and once registered its URL and last known contacts. */
    record StoredAccount(KeyPair keyPair, Optional<URI> location, List<URI> contacts) {
    }

    /**
     * The account at {@code ca} as storage holds it, without the network.
     *
     * @return empty when there is no account key yet
     * @throws AutocertException when the stored key is damaged
     */
    Optional<StoredAccount> stored(URI ca) throws IOException, AutocertException {
        String keyName = keyName(ca);
        Optional<byte[]> pem = storage.load(keyName);
        if (pem.isEmpty()) {
            return Optional.empty();
        }
        KeyPair keyPair;
        try {
            keyPair = Pem.decodeKeyPair(pem.get());
        } catch (IOException | RuntimeException e) {
            throw AutocertException.noRetry(damagedKey(keyName));
        }
        Properties info = loadInfo(directory(ca));
        String location = info.getProperty("location", "").trim();
        List<URI> contacts = java.util.Arrays.stream(info.getProperty("contact", "").split(","))
                .map(String::trim).filter(c -> !c.isEmpty()).map(URI::create).toList();
        return Optional.of(new StoredAccount(keyPair, location.isEmpty() ? Optional.empty() : Optional.of(URI.create(location)), contacts));
    }

    /** Stores the URL and contacts of {@code account}, as the CA last reported them. */
    void storeInfo(URI ca, Account account) throws IOException {
        storeInfo(directory(ca), ca, account);
    }

    /** Takes the lock that guards the account key at {@code ca}, waiting up to 30 s for another holder. */
    Storage.Lock lock(URI ca) throws IOException {
        return awaitLock(directory(ca));
    }

    /**
     * Stores an account that another client registered (Certbot's, at an import) as the account
     * at {@code ca}: its key and URL, replacing what was stored, so that the next login uses it
     * by its URL and registers nothing. The URL goes first and comes back last, so a crash in
     * between leaves a key without a URL, which the CA maps back to its account at the next
     * registration. The caller holds {@link #lock(URI)}.
     */
    void storeImported(URI ca, KeyPair keyPair, URI location) throws IOException {
        storage.delete(infoName(ca));
        storage.delete(pendingKeyName(ca));
        storage.store(keyName(ca), Pem.encodeKeyPair(keyPair));
        Properties info = new Properties();
        info.setProperty("location", location.toString());
        info.setProperty("ca", ca.toString());
        info.setProperty("contact", "");
        writeInfo(directory(ca), info);
    }

    /** Removes the account at {@code ca} from storage: its key, URL and any key a rollover left. */
    void forget(URI ca) throws IOException {
        storage.delete(pendingKeyName(ca));
        storage.delete(infoName(ca));
        storage.delete(keyName(ca));
    }

    /**
     * Whether {@code login} still has the key and URL storage holds for its CA: false once another
     * process (the command line's key rollover or deactivation) changed them, so that a cached
     * login is dropped before it signs with a key the CA no longer accepts. True when storage
     * cannot be read: the cached login is the best there is.
     */
    boolean isCurrent(Login login) {
        URI ca = login.getSession().getServerUri();
        try {
            Optional<byte[]> pem = storage.load(keyName(ca));
            if (pem.isEmpty()) {
                return false;
            }
            byte[] stored = Pem.decodeKeyPair(pem.get()).getPublic().getEncoded();
            String location = loadInfo(directory(ca)).getProperty("location", "").trim();
            return java.util.Arrays.equals(stored, login.getKeyPair().getPublic().getEncoded())
                    && location.equals(login.getAccountLocation().toString());
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }
}
