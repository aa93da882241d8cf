package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code autocert.dns-provider=acme-dns}: joohoi's ACME-DNS, a small DNS server whose only record
 * is a TXT per account, set through {@code POST /update} ({@code X-Api-User}, {@code X-Api-Key}).
 * The user delegates {@code _acme-challenge.example.com} to the account's {@code fulldomain} by
 * CNAME; the engine follows that CNAME, so the record handed here is named after the fulldomain
 * and the account is found by it. Accounts are kept as lego, acme-dns-client and
 * certbot-dns-acmedns keep them: a JSON file mapping each domain to {@code username}, {@code
 * password}, {@code fulldomain}, {@code subdomain} (and {@code server_url}). For a domain without
 * an account, one is registered ({@code POST /register}) and saved there, and the challenge fails
 * with the CNAME to create, as lego does.
 *
 * <p>ACME-DNS keeps the two most recent values of each account and has no delete, which is what a
 * wildcard and its apex need at once: {@link #cleanUp} does nothing, and a third value at the same
 * time evicts the oldest. As re-sending the older of two values would evict the other, a value this
 * process sent among the last two is not sent again. Thread-safe.
 */
final class AcmeDnsProvider implements DnsProvider {

    private static final Logger LOG = LoggerFactory.getLogger(AcmeDnsProvider.class);
    private static final String NAME = "acme-dns";
    private static final String CHALLENGE_LABEL = "_acme-challenge.";
    /** ACME-DNS answers with this many TXT values per account: the most recent ones. */
    private static final int SLOTS = 2;
    /** The values last sent per account ({@code server subdomain}), newest last; across providers, made anew per order. */
    private static final Map<String, Deque<String>> SENT = new ConcurrentHashMap<>();
    private static final Map<String, Object> LOCKS = new ConcurrentHashMap<>();

    private final String apiBase;
    private final Path storage;
    private final List<String> allowFrom;

    /**
     * @param apiBase   the server's base URL, or null to use each account's {@code server_url}
     * @param storage   the accounts file
     * @param allowFrom the networks a new account may update from (CIDR), empty for any
     */
    AcmeDnsProvider(String apiBase, Path storage, List<String> allowFrom) {
        this.apiBase = apiBase;
        this.storage = requireNonNull(storage, "storage");
        this.allowFrom = List.copyOf(allowFrom);
    }

    /** An account; {@link #toString()} leaves out the password. */
    record Account(String username, String password, String fulldomain, String subdomain, String serverUrl) {

        @Override
        public String toString() {
            return "acme-dns account " + username + " (" + fulldomain + ")";
        }
    }

    @Override
    public void present(TxtRecord record) throws AutocertException {
        Map<String, Account> accounts = accounts();
        String name = record.relativeName();
        Optional<Account> delegated = accounts.values().stream().filter(a -> a.fulldomain().equalsIgnoreCase(name)).findFirst();
        if (delegated.isPresent()) {
            update(delegated.get(), record);
            return;
        }
        if (!name.startsWith(CHALLENGE_LABEL)) {
            throw new AutocertException("DNS-01 through " + NAME + ": no account in " + storage + " has the fulldomain " + name
                    + ", where the CNAME on _acme-challenge points; add that account to the file, or point the CNAME at one of "
                    + accounts.values().stream().map(Account::fulldomain).sorted().toList());
        }
        String domain = name.substring(CHALLENGE_LABEL.length());
        Account account = accounts.get(domain);
        if (account == null) {
            account = register(domain);
        }
        throw new AutocertException("DNS-01 through " + NAME + ": " + record.name() + " is not yet a CNAME for the ACME-DNS account "
                + "of " + domain + "; create the record  " + record.name() + " CNAME " + account.fulldomain() + ".  in the zone of "
                + domain + " and the next attempt will use it");
    }

    /** Does nothing: ACME-DNS has no delete, and replaces the older value at the next update. */
    @Override
    public void cleanUp(TxtRecord record) {
        LOG.debug("acme-dns: nothing to remove for {}; the server keeps its two latest values", record.name());
    }

    private void update(Account account, TxtRecord record) throws AutocertException {
        String base = server(account);
        String key = base + " " + account.subdomain();
        synchronized (LOCKS.computeIfAbsent(key, k -> new Object())) {
            Deque<String> sent = SENT.computeIfAbsent(key, k -> new ArrayDeque<>());
            if (sent.contains(record.value())) {
                return; // still one of the two the server answers with
            }
            String body = new JSONBuilder().put("subdomain", account.subdomain()).put("txt", record.value()).toString();
            HttpRequest request = ProviderHttp.request(URI.create(base + "/update"))
                    .header("X-Api-User", account.username()).header("X-Api-Key", account.password())
                    .header("Content-Type", "application/json").POST(ProviderHttp.json(body)).build();
            http(account).send(request, "updating the TXT record of " + account.fulldomain() + " (for " + record.name() + ")");
            sent.addLast(record.value());
            while (sent.size() > SLOTS) {
                sent.removeFirst();
            }
        }
    }

    /** Registers an account for {@code domain} and saves it to the accounts file. */
    private Account register(String domain) throws AutocertException {
        if (apiBase == null) {
            throw new AutocertException("DNS-01 through " + NAME + ": " + storage + " has no account for " + domain
                    + ", and no server to register one is set: set dns_acmedns_api_url or ACME_DNS_API_BASE");
        }
        synchronized (LOCKS.computeIfAbsent(storage.toAbsolutePath().toString(), k -> new Object())) {
            Account known = accounts().get(domain);
            if (known != null) {
                return known; // registered meanwhile
            }
            HttpRequest.Builder request = ProviderHttp.request(URI.create(apiBase + "/register"));
            if (allowFrom.isEmpty()) {
                request.POST(HttpRequest.BodyPublishers.noBody());
            } else {
                request.header("Content-Type", "application/json")
                        .POST(ProviderHttp.json(new JSONBuilder().array("allowfrom", allowFrom).toString()));
            }
            JSON answer = new ProviderHttp(NAME, null, AcmeDnsProvider::errorDetail, List.of()).sendJson(request.build(),
                    "registering an account for " + domain);
            Account account;
            try {
                account = new Account(answer.get("username").asString(), answer.get("password").asString(),
                        answer.get("fulldomain").asString(), answer.get("subdomain").asString(), apiBase);
            } catch (RuntimeException e) {
                throw new AutocertException("DNS-01 through " + NAME + ": registering an account for " + domain
                        + " was answered without username, password, fulldomain and subdomain");
            }
            save(domain, account);
            LOG.info("Registered the ACME-DNS {} for {} and saved it to {}", account, domain, storage);
            return account;
        }
    }

    private String server(Account account) throws AutocertException {
        String base = apiBase != null ? apiBase : account.serverUrl();
        if (base == null || base.isBlank()) {
            throw new AutocertException("DNS-01 through " + NAME + ": the " + account + " in " + storage
                    + " has no server_url, and none is set: set dns_acmedns_api_url or ACME_DNS_API_BASE");
        }
        return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    private static ProviderHttp http(Account account) {
        return new ProviderHttp(NAME, null, AcmeDnsProvider::errorDetail, List.of(account.password()));
    }

    /** ACME-DNS's error body: {@code {"error": "forbidden"}}. */
    private static String errorDetail(String body) {
        JSON json = JSON.parse(body);
        return json.get("error").optional().map(JSON.Value::asString).orElse(null);
    }

    /** The accounts file: domain to account; none when it does not exist yet. */
    private Map<String, Account> accounts() throws AutocertException {
        String text;
        try {
            text = Files.readString(storage, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException e) {
            throw new AutocertException("DNS-01 through " + NAME + ": the accounts file " + storage + " cannot be read ("
                    + e.getClass().getSimpleName() + "); check that this server's user may read it");
        }
        warnIfOthersMayRead();
        Map<String, Account> accounts = new LinkedHashMap<>();
        try {
            JSON json = text.isBlank() ? JSON.empty() : JSON.parse(text);
            for (String domain : json.keySet()) {
                JSON a = json.get(domain).asObject();
                accounts.put(domain.toLowerCase(Locale.ROOT).replaceAll("\\.$", ""), new Account(a.get("username").asString(),
                        a.get("password").asString(), a.get("fulldomain").asString().replaceAll("\\.$", ""),
                        a.get("subdomain").asString(), a.get("server_url").optional().map(JSON.Value::asString).orElse(null)));
            }
        } catch (RuntimeException e) {
            // never quote the file: it holds passwords
            throw new AutocertException("DNS-01 through " + NAME + ": the accounts file " + storage + " is not a JSON object mapping "
                    + "each domain to {\"username\", \"password\", \"fulldomain\", \"subdomain\"}");
        }
        return accounts;
    }

    /** Adds an account to the file, keeping the others, written anew with mode 0600 and moved into place. */
    private void save(String domain, Account account) throws AutocertException {
        try {
            Map<String, Object> all = new LinkedHashMap<>();
            if (Files.exists(storage) && !Files.readString(storage, StandardCharsets.UTF_8).isBlank()) {
                all.putAll(JSON.parse(Files.readString(storage, StandardCharsets.UTF_8)).toMap());
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("username", account.username());
            entry.put("password", account.password());
            entry.put("fulldomain", account.fulldomain());
            entry.put("subdomain", account.subdomain());
            entry.put("allowfrom", allowFrom);
            entry.put("server_url", account.serverUrl());
            all.put(domain, entry);
            JSONBuilder json = new JSONBuilder();
            all.forEach(json::put);
            Path dir = storage.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path temp;
            try {
                temp = Files.createTempFile(dir, ".acme-dns", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                temp = Files.createTempFile(dir, ".acme-dns", ".tmp");
            }
            Files.writeString(temp, json.toString(), StandardCharsets.UTF_8);
            try {
                Files.move(temp, storage, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, storage, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            throw new AutocertException("DNS-01 through " + NAME + ": the new account for " + domain + " (" + account.fulldomain()
                    + ") cannot be saved to " + storage + " (" + e.getClass().getSimpleName() + "); check that this server's user "
                    + "may write there");
        }
    }

    private void warnIfOthersMayRead() {
        try {
            if (Files.getPosixFilePermissions(storage).stream().anyMatch(p -> p != PosixFilePermission.OWNER_READ
                    && p != PosixFilePermission.OWNER_WRITE && p != PosixFilePermission.OWNER_EXECUTE)) {
                LOG.warn("The ACME-DNS accounts file {} may be read by other users and holds passwords; run chmod 600 {}", storage, storage);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not POSIX, or gone: nothing to say
        }
    }

    @Override
    public String toString() {
        return NAME + " (" + (apiBase != null ? apiBase : "each account's server") + ", accounts in " + storage + ")";
    }

    /**
     * Its settings: the server, certbot-dns-acmedns's {@code dns_acmedns_api_url} or lego's
     * {@code ACME_DNS_API_BASE} (optional when each account has a {@code server_url}); the
     * accounts file, {@code dns_acmedns_registration_file} or {@code ACME_DNS_STORAGE_PATH}; the
     * networks new accounts accept updates from, {@code ACME_DNS_ALLOWLIST} (comma-separated
     * CIDR). lego's defaults: propagation timeout 60 s, polling interval 2 s.
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "ACME_DNS", Duration.ofSeconds(60), Duration.ofSeconds(2), 120);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String storage = credentials.get("dns_acmedns_registration_file", "ACME_DNS_STORAGE_PATH").orElseThrow(() -> credentials
                    .missing(List.of("dns_acmedns_registration_file"), List.of("ACME_DNS_STORAGE_PATH")));
            if (credentials.get(null, "ACME_DNS_STORAGE_BASE_URL").isPresent()) {
                throw credentials.invalid("ACME_DNS_STORAGE_BASE_URL", "(lego's HTTP account storage) is not supported; keep the "
                        + "accounts in a file named by ACME_DNS_STORAGE_PATH");
            }
            String apiBase = credentials.get("dns_acmedns_api_url", "ACME_DNS_API_BASE").isPresent()
                    ? ProviderHttp.baseUrl(credentials, "dns_acmedns_api_url", "ACME_DNS_API_BASE", "https://auth.acme-dns.io")
                    : null;
            List<String> allowFrom = credentials.get(null, "ACME_DNS_ALLOWLIST")
                    .map(v -> Arrays.stream(v.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList()).orElse(List.of());
            return new AcmeDnsProvider(apiBase, Path.of(storage), allowFrom);
        }
    }
}
