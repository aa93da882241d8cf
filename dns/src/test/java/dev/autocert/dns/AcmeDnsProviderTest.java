package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import dev.autocert.core.InvalidSettingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * Against a fake that plays ACME-DNS's documented API (joohoi/acme-dns README, "API"): {@code POST
 * /register} answers 201 with the account; {@code POST /update} checks {@code X-Api-User} and
 * {@code X-Api-Key} against the subdomain (401 {@code {"error": "forbidden"}}), wants a 43-character
 * value (400 {@code {"error": "bad_txt"}}), answers 200 {@code {"txt": …}}, and keeps the two
 * latest values of each subdomain.
 */
class AcmeDnsProviderTest {

    private static final String VALUE_A = "MsijOYZxqyjGnFGwhjrhfg-Xgbl5r68WPda0J9EgqqI";
    private static final String VALUE_B = "KxAyJ3NwUmg9ZQuMgPMq1nStaYSaP9tYQs5YsEksTqy";
    private static final String VALUE_C = "Cxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    private static final String PASSWORD = "htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z";

    @TempDir
    Path dir;

    private FakeApi api;
    private final Map<String, Map<String, String>> accounts = new LinkedHashMap<>(); // subdomain → username, password
    private final Map<String, List<String>> txt = new LinkedHashMap<>(); // subdomain → values, oldest first

    @BeforeEach
    void startFake() throws Exception {
        api = FakeApi.start();
        api.on("POST", "/register", r -> {
            String subdomain = UUID.randomUUID().toString();
            String username = UUID.randomUUID().toString();
            synchronized (accounts) {
                accounts.put(subdomain, Map.of("username", username, "password", PASSWORD));
            }
            List<String> allowFrom = r.body().isEmpty() ? List.of()
                    : r.json().get("allowfrom").asArray().stream().map(JSON.Value::asString).toList();
            return FakeApi.Response.json(201, Map.of("allowfrom", allowFrom, "fulldomain", subdomain + ".auth.example.org",
                    "password", PASSWORD, "subdomain", subdomain, "username", username));
        });
        api.on("POST", "/update", r -> {
            JSON body = r.json();
            String subdomain = body.get("subdomain").asString();
            synchronized (accounts) {
                Map<String, String> account = accounts.get(subdomain);
                if (account == null || !account.get("username").equals(r.header("X-Api-User"))
                        || !account.get("password").equals(r.header("X-Api-Key"))) {
                    return FakeApi.Response.json(401, "{\"error\": \"forbidden\"}");
                }
                String value = body.get("txt").asString();
                if (value.length() != 43) {
                    return FakeApi.Response.json(400, "{\"error\": \"bad_txt\"}");
                }
                List<String> values = txt.computeIfAbsent(subdomain, s -> new ArrayList<>());
                values.add(value);
                if (values.size() > 2) {
                    values.remove(0);
                }
                return FakeApi.Response.json(200, Map.of("txt", value));
            }
        });
    }

    @AfterEach
    void stopFake() {
        api.close();
    }

    /** An account registered beforehand and kept in a storage file, as lego writes it. */
    private String account(String domain, boolean withServerUrl) throws Exception {
        String subdomain = UUID.randomUUID().toString();
        String username = UUID.randomUUID().toString();
        accounts.put(subdomain, Map.of("username", username, "password", PASSWORD));
        Map<String, Object> entry = new LinkedHashMap<>(Map.of("username", username, "password", PASSWORD,
                "fulldomain", subdomain + ".auth.example.org", "subdomain", subdomain));
        if (withServerUrl) {
            entry.put("server_url", api.url());
        }
        Path file = dir.resolve("acme-dns.json");
        Map<String, Object> all = new LinkedHashMap<>();
        if (Files.exists(file)) {
            all.putAll(JSON.parse(Files.readString(file)).toMap());
        }
        all.put(domain, entry);
        Files.writeString(file, FakeApi.toJson(all));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return subdomain;
    }

    private DnsProvider provider() {
        return provider(Map.of("ACME_DNS_API_BASE", api.url(), "ACME_DNS_STORAGE_PATH", dir.resolve("acme-dns.json").toString()));
    }

    private static DnsProvider provider(Map<String, String> settings) {
        return new AcmeDnsProvider.Factory().create(DnsCredentials.of("acme-dns", settings));
    }

    /** The record as the engine hands it over: at the end of the CNAME on _acme-challenge. */
    private static TxtRecord delegated(String subdomain, String value) {
        return new TxtRecord(subdomain + ".auth.example.org.", value, 120);
    }

    @Test
    void updatesTheAccountsTxtWithItsHeadersAndBody() throws Exception {
        String subdomain = account("example.com", false);

        provider().present(delegated(subdomain, VALUE_A));

        FakeApi.Request update = api.requests("POST", "/update").get(0);
        assertEquals(accounts.get(subdomain).get("username"), update.header("X-Api-User"));
        assertEquals(PASSWORD, update.header("X-Api-Key"));
        assertEquals(subdomain, update.json().get("subdomain").asString());
        assertEquals(VALUE_A, update.json().get("txt").asString());
        assertEquals(List.of(VALUE_A), txt.get(subdomain));
        assertTrue(api.unrouted().isEmpty());
    }

    @Test
    void aWildcardAndItsApexCoexistAndCleanupChangesNothing() throws Exception {
        String subdomain = account("example.com", false);
        DnsProvider acmeDns = provider();

        acmeDns.present(delegated(subdomain, VALUE_A)); // *.example.com
        acmeDns.present(delegated(subdomain, VALUE_B)); // example.com
        assertEquals(List.of(VALUE_A, VALUE_B), txt.get(subdomain));

        api.clearRequests();
        acmeDns.cleanUp(delegated(subdomain, VALUE_A));
        assertEquals(List.of(VALUE_A, VALUE_B), txt.get(subdomain));
        assertTrue(api.requests().isEmpty(), "ACME-DNS has no delete: cleanup sends nothing");
    }

    @Test
    void presentingAValueAgainDoesNotEvictTheOtherOne() throws Exception {
        String subdomain = account("example.com", false);
        DnsProvider acmeDns = provider();

        acmeDns.present(delegated(subdomain, VALUE_A));
        acmeDns.present(delegated(subdomain, VALUE_B));
        provider().present(delegated(subdomain, VALUE_A)); // a retry, by another provider instance
        provider().present(delegated(subdomain, VALUE_B));

        assertEquals(List.of(VALUE_A, VALUE_B), txt.get(subdomain));
        assertEquals(2, api.requests("POST", "/update").size());
    }

    @Test
    void eachAccountsServerUrlIsUsedWhenNoServerIsSet() throws Exception {
        String subdomain = account("example.com", true);
        provider(Map.of("ACME_DNS_STORAGE_PATH", dir.resolve("acme-dns.json").toString())).present(delegated(subdomain, VALUE_A));
        assertEquals(List.of(VALUE_A), txt.get(subdomain));
    }

    @Test
    void certbotDnsAcmednsKeysWorkToo() throws Exception {
        String subdomain = account("example.com", false);
        provider(Map.of("dns_acmedns_api_url", api.url() + "/", "dns_acmedns_registration_file", dir.resolve("acme-dns.json").toString()))
                .present(delegated(subdomain, VALUE_A));
        assertEquals(List.of(VALUE_A), txt.get(subdomain));
    }

    @Test
    void withoutTheCnameItSaysWhichCnameToCreate() throws Exception {
        account("example.com", false);
        String fulldomain = JSON.parse(Files.readString(dir.resolve("acme-dns.json"))).get("example.com").asObject().get("fulldomain")
                .asString();

        AutocertException e = assertThrows(AutocertException.class,
                () -> provider().present(new TxtRecord("_acme-challenge.example.com.", VALUE_A, 120)));

        assertTrue(e.getMessage().contains("_acme-challenge.example.com. CNAME " + fulldomain + "."), e.getMessage());
        assertTrue(api.requests().isEmpty());
    }

    @Test
    void aDomainWithoutAnAccountIsRegisteredSavedAndGivenItsCname() throws Exception {
        Path storage = dir.resolve("new/acme-dns.json");
        DnsProvider acmeDns = provider(Map.of("ACME_DNS_API_BASE", api.url(), "ACME_DNS_STORAGE_PATH", storage.toString(),
                "ACME_DNS_ALLOWLIST", "192.0.2.0/24, 2001:db8::/32"));

        AutocertException e = assertThrows(AutocertException.class,
                () -> acmeDns.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120)));

        JSON saved = JSON.parse(Files.readString(storage)).get("www.example.com").asObject();
        String fulldomain = saved.get("fulldomain").asString();
        assertTrue(e.getMessage().contains("_acme-challenge.www.example.com. CNAME " + fulldomain + "."), e.getMessage());
        assertFalse(e.getMessage().contains(PASSWORD));
        assertEquals(PASSWORD, saved.get("password").asString());
        assertEquals(api.url(), saved.get("server_url").asString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(storage)));
        assertEquals(List.of("192.0.2.0/24", "2001:db8::/32"),
                api.requests("POST", "/register").get(0).json().get("allowfrom").asArray().stream().map(JSON.Value::asString).toList());

        // once the CNAME exists, the engine hands over the fulldomain and the saved account is used
        acmeDns.present(new TxtRecord(fulldomain + ".", VALUE_A, 120));
        assertEquals(List.of(VALUE_A), txt.get(saved.get("subdomain").asString()));
        assertEquals(1, api.requests("POST", "/register").size());
    }

    @Test
    void aRefusedUpdateNamesTheProviderAndTheServersWordsButNotThePassword() throws Exception {
        String subdomain = account("example.com", false);
        accounts.put(subdomain, Map.of("username", "someone-else", "password", "x"));

        AutocertException e = assertThrows(AutocertException.class, () -> provider().present(delegated(subdomain, VALUE_A)));

        assertTrue(e.getMessage().startsWith("DNS-01 through acme-dns: "), e.getMessage());
        assertTrue(e.getMessage().contains("HTTP 401 (forbidden)"), e.getMessage());
        assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
    }

    @Test
    void aBadValueGivesTheServersCode() throws Exception {
        String subdomain = account("example.com", false);
        AutocertException e = assertThrows(AutocertException.class, () -> provider().present(delegated(subdomain, "short")));
        assertTrue(e.getMessage().contains("HTTP 400 (bad_txt)"), e.getMessage());
    }

    @Test
    void anUnknownFulldomainIsNamed() throws Exception {
        account("example.com", false);
        AutocertException e = assertThrows(AutocertException.class,
                () -> provider().present(new TxtRecord("elsewhere.auth.example.org.", VALUE_C, 120)));
        assertTrue(e.getMessage().contains("no account in"), e.getMessage());
        assertTrue(e.getMessage().contains("elsewhere.auth.example.org"), e.getMessage());
    }

    @Test
    void aMalformedAccountsFileIsNotQuoted() throws Exception {
        Files.writeString(dir.resolve("acme-dns.json"), "{\"example.com\": \"" + PASSWORD + "\"}");
        AutocertException e = assertThrows(AutocertException.class,
                () -> provider().present(new TxtRecord("x.auth.example.org.", VALUE_A, 120)));
        assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
        assertTrue(e.getMessage().contains("is not a JSON object"), e.getMessage());
    }

    @Test
    void missingSettingsNameTheIniKeyAndTheLegoVariable() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> provider(Map.of("ACME_DNS_API_BASE", api.url())));
        assertTrue(e.getMessage().contains("dns_acmedns_registration_file"), e.getMessage());
        assertTrue(e.getMessage().contains("ACME_DNS_STORAGE_PATH"), e.getMessage());
    }

    @Test
    void isRegisteredAsAcmeDns() {
        assertTrue(DnsSolverFactory.find("acme-dns").isPresent());
    }
}
