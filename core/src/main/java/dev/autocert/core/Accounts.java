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
 * The ACME account for the configured CA: its key created on first use and kept in storage
 * ({@code accounts/CA/account.key}), registered or found again with {@code newAccount}
 * (RFC 8555 section 7.3), its contact kept in step with {@code autocert.email}.
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
        String path = ca.getPath() == null ? "" : ca.getPath();
        String name = ca.getHost() + (ca.getPort() > 0 ? "_" + ca.getPort() : "") + path.replace('/', '_');
        return name.replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("_+$", "").toLowerCase(Locale.ROOT);
    }

    /**
     * Logs in to the account, creating it (and its key) when there is none yet. The CA's
     * {@code newAccount} returns the existing account for a known key, so this also recovers
     * when the CA's records and ours disagree.
     */
    Login login(Session session) throws AutocertException {
        String dir = "accounts/" + caDirectoryName(settings.ca());
        try {
            checkTerms(session);
            KeyPair keyPair = loadOrCreateKey(dir);
            AccountBuilder builder = new AccountBuilder().useKeyPair(keyPair);
            settings.email().ifPresent(builder::addEmail);
            if (settings.agreeTos()) {
                builder.agreeToTermsOfService();
            }
            if (settings.eabKid().isPresent()) {
                builder.withKeyIdentifier(settings.eabKid().get(), settings.eabHmacKey().orElseThrow());
            }
            Login login = builder.createLogin(session);
            Account account = login.getAccount();
            updateContact(account);
            storeInfo(dir, account);
            return login;
        } catch (AcmeException e) {
            throw AcmeFailures.translate("Account registration with " + settings.ca() + " failed", e);
        } catch (IOException e) {
            throw new AutocertException("Cannot read or write the account in " + storage, e);
        }
    }

    private void checkTerms(Session session) throws AcmeException, AutocertException {
        Optional<URI> terms = session.getMetadata().getTermsOfService();
        if (terms.isPresent() && !settings.agreeTos()) {
            throw AutocertException.noRetry(AutocertSettings.PREFIX + AutocertSettings.AGREE_TOS + ": the CA "
                    + settings.ca() + " requires accepting its terms of service at " + terms.get()
                    + "; read them and set " + AutocertSettings.PREFIX + AutocertSettings.AGREE_TOS + "=true");
        }
        if (session.getMetadata().isExternalAccountRequired() && settings.eabKid().isEmpty()) {
            throw AutocertException.noRetry(AutocertSettings.PREFIX + AutocertSettings.EAB_KID + ": the CA "
                    + settings.ca() + " requires external account binding; set " + AutocertSettings.PREFIX
                    + AutocertSettings.EAB_KID + " and " + AutocertSettings.PREFIX + AutocertSettings.EAB_HMAC_KEY);
        }
    }

    private KeyPair loadOrCreateKey(String dir) throws IOException {
        String keyName = dir + "/account.key";
        Optional<byte[]> stored = storage.load(keyName);
        if (stored.isPresent()) {
            try {
                return Pem.decodeKeyPair(stored.get());
            } catch (IOException e) {
                throw new IOException("The account key " + keyName + " is unreadable; move it away to create a new account");
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
            LOG.info("Created a new ACME account key for {}", settings.ca());
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

    private void storeInfo(String dir, Account account) throws IOException {
        Properties info = new Properties();
        info.setProperty("location", account.getLocation().toString());
        info.setProperty("ca", settings.ca().toString());
        info.setProperty("contact", account.getContacts().stream().map(URI::toString).reduce((a, b) -> a + "," + b).orElse(""));
        String key = dir + "/account.properties";
        Properties old = new Properties();
        Optional<byte[]> stored = storage.load(key);
        if (stored.isPresent()) {
            old.load(new ByteArrayInputStream(stored.get()));
        }
        if (!old.equals(info)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            info.store(out, "Autocert ACME account");
            storage.store(key, out.toByteArray());
            LOG.debug("Account {} at {}", account.getLocation(), settings.ca());
        }
    }
}
