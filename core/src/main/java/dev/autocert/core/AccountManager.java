package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.toolbox.AcmeUtils;
import org.shredzone.acme4j.toolbox.JoseUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ACME account Autocert uses at a CA, managed by hand: registered, read back from the CA, its
 * contact changed, its key rolled over, deactivated. For tools such as the {@code autocert}
 * command; an engine ({@link CertificateManager}) registers and keeps its account by itself.
 *
 * <p>It works on the account the engine keeps in storage for the first CA of
 * {@code autocert.ca} ({@code accounts/CA/account.key} and {@code account.properties}), so an
 * engine on the same storage uses what it changes at its next request to the CA, without a
 * restart: after a key rollover it signs with the new key, after a deactivation it registers a
 * new account.
 *
 * <p>Each method talks to the CA and keeps nothing between calls. Instances are safe for
 * concurrent use; the methods that change the stored key hold the account's storage lock, which
 * engines sharing the storage respect.
 */
public final class AccountManager {

    private static final Logger LOG = LoggerFactory.getLogger(AccountManager.class);

    /** Account keys are ECDSA P-256, as the engine creates them: small, and accepted by every CA. */
    private static final KeyType ACCOUNT_KEY_TYPE = KeyType.EC_P256;

    private final AutocertSettings settings;
    private final Storage storage;
    private final Accounts accounts;
    private final AcmeSessions sessions;
    private final URI ca;

    private AccountManager(AutocertSettings settings, Storage storage) {
        this.settings = requireNonNull(settings, "settings");
        this.storage = requireNonNull(storage, "storage");
        this.accounts = new Accounts(settings, storage);
        this.sessions = new AcmeSessions(settings);
        this.ca = settings.ca();
    }

    /**
     * The accounts of {@code settings}, in the file storage an engine with the same settings uses:
     * {@code autocert.storage}, or {@code ~/.autocert} when it is not set.
     */
    public static AccountManager create(AutocertSettings settings) {
        requireNonNull(settings, "settings");
        return new AccountManager(settings, Storage.of(settings, CertificateManager.defaultStorageDirectory()));
    }

    /** The accounts of {@code settings}, kept in {@code storage}. */
    public static AccountManager create(AutocertSettings settings, Storage storage) {
        return new AccountManager(settings, storage);
    }

    /** The CA whose account this manages: the first of {@code autocert.ca}. */
    public URI ca() {
        return ca;
    }

    /** The storage the account is kept in. */
    public Storage storage() {
        return storage;
    }

    /**
     * The account as storage holds it, without asking the CA: its {@link AccountInfo#status()} is
     * {@code unknown} and its contacts are those last stored.
     *
     * @return the account, or empty when none is registered at {@link #ca()} in this storage
     * @throws AutocertException when storage cannot be read or the stored key is damaged
     */
    public Optional<AccountInfo> stored() throws AutocertException {
        Optional<Accounts.StoredAccount> stored = read();
        if (stored.isEmpty() || stored.get().location().isEmpty()) {
            return Optional.empty();
        }
        Accounts.StoredAccount account = stored.get();
        return Optional.of(new AccountInfo(ca, account.location().get(), account.contacts(), "unknown",
                keyType(account.keyPair().getPublic()), thumbprint(account.keyPair().getPublic())));
    }

    /**
     * Registers the account at the CA (RFC 8555 section 7.3) with the settings' contact
     * ({@code autocert.email}, none when unset), terms of service ({@code autocert.agree-tos}) and
     * external account binding ({@code autocert.eab-kid}, {@code autocert.eab-hmac-key}), and
     * stores its key and URL. A key stored without a URL (a registration that failed half-way) is
     * registered rather than replaced.
     *
     * @throws AutocertException when storage already holds an account for the CA, or the CA
     *     refuses (terms not accepted, binding required) or cannot be reached
     */
    public AccountInfo register() throws AutocertException {
        Optional<AccountInfo> existing = stored();
        if (existing.isPresent()) {
            throw AutocertException.noRetry("There is an existing account at " + ca + " in " + storage + ": "
                    + existing.get().location() + "; change it (contact, key) rather than register another, "
                    + "or deactivate it first");
        }
        Login login;
        try {
            login = accounts.login(open());
        } catch (RuntimeException e) {
            throw unreachable(e);
        }
        return describe("Reading the new account at " + ca, login.getAccount(), login.getKeyPair());
    }

    /**
     * The account as the CA has it now: its status and contacts (a POST-as-GET of the account URL).
     *
     * @throws AutocertException when none is stored, or the CA refuses or cannot be reached
     */
    public AccountInfo fetch() throws AutocertException {
        Accounts.StoredAccount stored = registered();
        Login login = login(stored.keyPair(), stored);
        return describe("Reading the account " + stored.location().get() + " at " + ca, login.getAccount(), stored.keyPair());
    }

    /**
     * Makes {@code email} the account's only contact at the CA, and in storage.
     *
     * <p>An engine whose {@code autocert.email} differs sets its own address again at its next
     * login: change the setting too.
     *
     * @throws InvalidSettingException when {@code email} is not an e-mail address
     * @throws AutocertException when none is stored, or the CA refuses or cannot be reached
     */
    public AccountInfo changeContact(String email) throws AutocertException {
        requireNonNull(email, "email");
        URI contact;
        try {
            contact = new URI("mailto", email, null);
            AcmeUtils.validateContact(contact);
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new InvalidSettingException(AutocertSettings.PREFIX + AutocertSettings.EMAIL,
                    "expected an address like admin@example.com but was '" + email + "'");
        }
        Accounts.StoredAccount stored = registered();
        Account account = login(stored.keyPair(), stored).getAccount();
        try {
            account.fetch(); // the current contacts, and any refusal of the account, before the change
            var edit = account.modify();
            edit.getContacts().clear();
            edit.getContacts().add(contact);
            edit.commit();
            accounts.storeInfo(ca, account);
        } catch (AcmeException e) {
            throw AcmeFailures.translate("Changing the contact of " + stored.location().get() + " at " + ca + " failed", ca, e);
        } catch (IOException e) {
            throw storageFailed("The CA changed the contact, but storing it failed", e);
        } catch (RuntimeException e) {
            throw unreachable(e);
        }
        LOG.info("Changed the contact of ACME account {} to {}", stored.location().get(), email);
        return describe("Reading the account at " + ca, account, stored.keyPair());
    }

    /**
     * Rolls the account key over (RFC 8555 section 7.3.5): a new key is made, the CA is asked to
     * bind the account to it, and only once it has is it stored in place of the old one. Until
     * then it waits beside the old key; when a rollover was interrupted after the CA accepted the
     * new key, the next call finds that out and finishes it before rolling over again.
     *
     * @throws AutocertException when none is stored, or the CA refuses or cannot be reached; the
     *     stored key is then the one the CA knows, except where the message says otherwise
     */
    public AccountInfo rollOverKey() throws AutocertException {
        try (Storage.Lock lock = accounts.lock(ca)) {
            Accounts.StoredAccount stored = registered();
            KeyPair current = finishInterruptedRollover(stored);
            Login login = login(current, stored);
            KeyPair next = ACCOUNT_KEY_TYPE.generate();
            String pending = Accounts.pendingKeyName(ca);
            storage.store(pending, Pem.encodeKeyPair(next));
            try {
                login.getAccount().changeKey(next);
            } catch (AcmeServerException e) {
                storage.delete(pending); // the CA answered no: the old key stays the account's
                throw AcmeFailures.translate("Rolling over the key of " + stored.location().get() + " at " + ca + " failed", ca, e);
            } catch (AcmeException | RuntimeException e) {
                String cause = e instanceof AcmeNetworkException || e instanceof RuntimeException ? AcmeFailures.network(ca, e)
                        : String.valueOf(e.getMessage());
                throw new AutocertException("Rolling over the key of " + stored.location().get() + " at " + ca + " failed ("
                        + cause + "); whether the CA took the new key is not known: roll over again, which finds out and finishes", e);
            }
            promote(next, pending, stored);
            LOG.info("Rolled over the key of ACME account {} at {}", stored.location().get(), ca);
            return describe("Reading the account at " + ca + " with its new key", login.getAccount(), next);
        } catch (IOException e) {
            throw storageFailed("Cannot read or write the account", e);
        }
    }

    /**
     * Deactivates the account at the CA (RFC 8555 section 7.3.6), for good, and then removes its key
     * and URL from storage, since the CA refuses that key from then on. Certificates it obtained
     * stay valid until they expire or are revoked. An engine on the same storage registers a new
     * account at its next order.
     *
     * @return the account as the CA reported it, {@code deactivated}
     * @throws AutocertException when none is stored, or the CA refuses or cannot be reached; the
     *     account then stays in storage
     */
    public AccountInfo deactivate() throws AutocertException {
        try (Storage.Lock lock = accounts.lock(ca)) {
            Accounts.StoredAccount stored = registered();
            Account account = login(stored.keyPair(), stored).getAccount();
            try {
                account.deactivate();
            } catch (AcmeException e) {
                AutocertException failure = AcmeFailures.translate("Deactivating " + stored.location().get() + " at " + ca + " failed", ca, e);
                if (e instanceof AcmeServerException server && AcmeFailures.type(server).equals("accountDoesNotExist")) {
                    throw AutocertException.noRetry(failure.getMessage() + "; the CA does not know this account, so there is "
                            + "nothing to deactivate there: to forget it here, delete " + Accounts.keyName(ca) + " and "
                            + Accounts.infoName(ca) + " in " + storage);
                }
                throw failure;
            } catch (RuntimeException e) {
                throw unreachable(e);
            }
            AccountInfo info = describe(account, stored.keyPair());
            try {
                accounts.forget(ca);
            } catch (IOException e) {
                throw storageFailed("The CA deactivated the account " + stored.location().get() + ", but removing "
                        + Accounts.keyName(ca) + " and " + Accounts.infoName(ca) + " failed; delete them by hand", e);
            }
            LOG.info("Deactivated ACME account {} at {} and removed it from {}", stored.location().get(), ca, storage);
            return info;
        } catch (IOException e) {
            throw storageFailed("Cannot take or release the account's lock", e);
        }
    }

    /**
     * The key the CA knows the account by, when a rollover left a new key beside the old one: the
     * one the CA answers to is kept as the stored key, and the other dropped. A key is dropped only
     * once the other is known to work.
     */
    private KeyPair finishInterruptedRollover(Accounts.StoredAccount stored) throws AutocertException, IOException {
        String pendingName = Accounts.pendingKeyName(ca);
        Optional<byte[]> pendingPem = storage.load(pendingName);
        if (pendingPem.isEmpty()) {
            return stored.keyPair();
        }
        if (accepted(stored.keyPair(), stored)) {
            storage.delete(pendingName); // the rollover never took effect
            LOG.debug("Dropped the key of a rollover that did not take effect at {}", ca);
            return stored.keyPair();
        }
        KeyPair pending;
        try {
            pending = Pem.decodeKeyPair(pendingPem.get());
        } catch (IOException | RuntimeException e) {
            pending = null;
        }
        if (pending == null || !accepted(pending, stored)) {
            throw AutocertException.noRetry("The CA " + ca + " accepts neither " + Accounts.keyName(ca) + " nor "
                    + pendingName + " (left by an interrupted key rollover) in " + storage + " for the account "
                    + stored.location().get() + "; restore the account key from a backup, or move accounts/"
                    + Accounts.caDirectoryName(ca) + " away and register a new account");
        }
        promote(pending, pendingName, stored);
        LOG.info("Finished an interrupted key rollover of ACME account {} at {}", stored.location().get(), ca);
        return pending;
    }

    /**
     * Whether the CA accepts requests for the account signed with {@code key}; false when it refuses
     * the signature or the account, an exception when it cannot say (unreachable, rate limited).
     */
    private boolean accepted(KeyPair key, Accounts.StoredAccount stored) throws AutocertException {
        try {
            login(key, stored).getAccount().fetch();
            return true;
        } catch (AcmeServerException e) {
            if (List.of("malformed", "unauthorized", "accountDoesNotExist").contains(AcmeFailures.type(e))) {
                return false;
            }
            throw AcmeFailures.translate("Checking an interrupted key rollover of " + stored.location().get() + " failed", ca, e);
        } catch (AcmeException e) {
            throw AcmeFailures.translate("Checking an interrupted key rollover of " + stored.location().get() + " failed", ca, e);
        } catch (RuntimeException e) {
            throw unreachable(e);
        }
    }

    /** Stores {@code key}, which the CA has accepted, as the account key, and drops its pending copy. */
    private void promote(KeyPair key, String pendingName, Accounts.StoredAccount stored) throws AutocertException {
        try {
            storage.store(Accounts.keyName(ca), Pem.encodeKeyPair(key));
        } catch (IOException e) {
            throw new AutocertException("The CA now knows the account " + stored.location().get() + " by its new key, but storing it as "
                    + Accounts.keyName(ca) + " in " + storage + " failed (" + e.getMessage() + "); it is kept in " + pendingName
                    + ": fix the storage and roll over again, which finishes this rollover first", e);
        }
        try {
            storage.delete(pendingName);
        } catch (IOException e) {
            LOG.warn("Cannot delete {} in {} after a key rollover: {}", pendingName, storage, e.toString());
        }
    }

    private Optional<Accounts.StoredAccount> read() throws AutocertException {
        try {
            return accounts.stored(ca);
        } catch (IOException e) {
            throw storageFailed("Cannot read the account", e);
        }
    }

    private Accounts.StoredAccount registered() throws AutocertException {
        Optional<Accounts.StoredAccount> stored = read();
        if (stored.isEmpty() || stored.get().location().isEmpty()) {
            throw AutocertException.noRetry("No ACME account for " + ca + " in " + storage + " (" + Accounts.infoName(ca)
                    + " holds no account URL): register one first, or name the CA it was registered at in "
                    + AutocertSettings.PREFIX + AutocertSettings.CA);
        }
        return stored.get();
    }

    private Session open() {
        return sessions.open(ca);
    }

    private Login login(KeyPair keyPair, Accounts.StoredAccount stored) throws AutocertException {
        try {
            return open().login(stored.location().get().toURL(), keyPair);
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw AutocertException.noRetry("The account URL '" + stored.location().get() + "' in " + Accounts.infoName(ca)
                    + " in " + storage + " is not a URL; register again");
        } catch (RuntimeException e) {
            throw unreachable(e);
        }
    }

    private AccountInfo describe(String context, Account account, KeyPair keyPair) throws AutocertException {
        try {
            account.fetch();
            return describe(account, keyPair);
        } catch (AcmeException e) {
            throw AcmeFailures.translate(context + " failed", ca, e);
        } catch (RuntimeException e) {
            throw unreachable(e);
        }
    }

    /** The account as {@code account}'s last answer from the CA has it. */
    private AccountInfo describe(Account account, KeyPair keyPair) {
        return new AccountInfo(ca, URI.create(account.getLocation().toString()), account.getContacts(),
                account.getStatus().name().toLowerCase(Locale.ROOT), keyType(keyPair.getPublic()), thumbprint(keyPair.getPublic()));
    }

    private AutocertException unreachable(RuntimeException e) {
        return new AutocertException("Cannot talk to the CA at " + ca + ": " + AcmeFailures.network(ca, e), e);
    }

    private AutocertException storageFailed(String what, IOException e) {
        return new AutocertException(what + " in " + storage + ": " + e.getMessage(), e);
    }

    private static String keyType(PublicKey key) {
        return KeyType.of(key).map(KeyType::id).orElse(key.getAlgorithm());
    }

    /** The key's RFC 7638 JWK thumbprint (SHA-256, base64url): what the CA knows the key by, and what key authorizations end with. */
    private static String thumbprint(PublicKey key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(JoseUtils.thumbprint(key));
    }

    /**
     * An ACME account: what the CA (or storage) says of it, and which key it has. Never holds the
     * private key.
     *
     * @param ca the CA's directory URL
     * @param location the account URL, which names it at the CA
     * @param contacts its contact URIs, such as {@code mailto:admin@example.com}
     * @param status {@code valid}, {@code deactivated} or {@code revoked} as the CA said
     *     (RFC 8555 section 7.1.2), or {@code unknown} when read from storage alone
     * @param keyType the account key's type, such as {@code ec-p256}
     * @param keyThumbprint the account key's RFC 7638 thumbprint, base64url
     */
    public record AccountInfo(URI ca, URI location, List<URI> contacts, String status, String keyType, String keyThumbprint) {

        public AccountInfo {
            requireNonNull(ca, "ca");
            requireNonNull(location, "location");
            contacts = List.copyOf(contacts);
            requireNonNull(status, "status");
            requireNonNull(keyType, "keyType");
            requireNonNull(keyThumbprint, "keyThumbprint");
        }

        /** The e-mail addresses among the contacts, without {@code mailto:}. */
        public List<String> emails() {
            return contacts.stream().filter(c -> "mailto".equalsIgnoreCase(c.getScheme()))
                    .map(URI::getSchemeSpecificPart).toList();
        }
    }
}
