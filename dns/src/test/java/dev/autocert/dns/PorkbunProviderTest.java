package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * {@link PorkbunProvider} against a fake of Porkbun's API v3 as documented: every call a {@code
 * POST} with {@code apikey} and {@code secretapikey} in its JSON body, {@code /domain/listAll}
 * read from {@code start} 1000 at a time, {@code /dns/retrieveByNameType}, {@code /dns/create},
 * {@code /dns/delete}, and answers whose {@code status} is {@code SUCCESS} or {@code ERROR} with
 * a {@code message}.
 */
class PorkbunProviderTest extends HostedProviderContract {

    private static final String API_KEY = "pk1_5299b57125c8";
    private static final String SECRET = "sk1_7d119e3f656b";

    private FakePorkbun porkbun;

    PorkbunProviderTest() {
        super(new PorkbunProvider.Factory(), "PORKBUN_BASE_URL",
                new Registration("porkbun", "PORKBUN", Duration.ofSeconds(600), Duration.ofSeconds(10), 300));
    }

    @BeforeEach
    void start() {
        porkbun = new FakePorkbun(api, API_KEY, SECRET, List.of("example.com", "other.net"));
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("dns_porkbun_key", API_KEY, "dns_porkbun_secret", SECRET, "PORKBUN_BASE_URL", api.url() + "/api/json/v3");
    }

    @Override
    List<String> values() {
        return porkbun.values("_acme-challenge.example.com");
    }

    @Override
    int writes() {
        return api.requests("POST", ".*/dns/(create|delete)/.*").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakePorkbun(api, API_KEY, "sk1_another", List.of("example.com"));
        return new Refusal(provider(), List.of("Invalid API key. (001)"), List.of(API_KEY, SECRET));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("no domain of this account holds _acme-challenge.example.org.");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of("PORKBUN_SECRET_API_KEY", SECRET), "dns_porkbun_key", "PORKBUN_API_KEY"),
                new Missing(Map.of("PORKBUN_API_KEY", API_KEY), "dns_porkbun_secret", "PORKBUN_SECRET_API_KEY"));
    }

    @Test
    void presentThenCleanUpSendsTheDocumentedRequestsWithTheKeys() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 600));

        assertEquals(1, api.requests("POST", "/api/json/v3/dns/retrieveByNameType/example.com/TXT/_acme-challenge.www").size());
        JSON create = api.requests("POST", "/api/json/v3/dns/create/example.com").get(0).json();
        assertEquals("_acme-challenge.www", create.get("name").asString());
        assertEquals("TXT", create.get("type").asString());
        assertEquals(VALUE_A, create.get("content").asString());
        assertEquals("600", create.get("ttl").asString());

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 600));
        assertEquals(1, api.requests("POST", "/api/json/v3/dns/delete/example.com/[0-9]+").size());
        assertEquals(List.of(), porkbun.values("_acme-challenge.www.example.com"));
        assertTrue(api.requests().stream().map(FakeApi.Request::json)
                .allMatch(b -> API_KEY.equals(b.get("apikey").asString()) && SECRET.equals(b.get("secretapikey").asString())));
        assertTrue(api.unrouted().isEmpty(), () -> "unexpected requests: " + api.unrouted());
    }

    @Test
    void aRecordAtTheDomainItselfHasAnEmptyName() throws Exception {
        provider().present(new TxtRecord("example.com.", VALUE_A, 600));
        assertEquals(1, api.requests("POST", "/api/json/v3/dns/retrieveByNameType/example.com/TXT").size());
        assertEquals("", api.requests("POST", ".*/dns/create/.*").get(0).json().get("name").asString());
    }

    @Test
    void readsEveryPageOfTheDomainList() throws Exception {
        api.close();
        api = FakeApi.start();
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            many.add("domain" + i + ".test");
        }
        many.add("example.com");
        porkbun = new FakePorkbun(api, API_KEY, SECRET, many);
        provider().present(record(VALUE_A));
        assertEquals(List.of("0", "1000"), api.requests("POST", ".*/domain/listAll").stream()
                .map(r -> r.json().get("start").asString()).toList());
        assertEquals(List.of(VALUE_A), porkbun.values("_acme-challenge.example.com"));
    }

    @Test
    void anErrorStatusInA200AnswerFails() throws Exception {
        api.on("POST", "/api/json/v3/dns/create/example.com", r -> FakeApi.Response.json(200,
                "{\"status\":\"ERROR\",\"message\":\"Domain is not opted in to API access.\"}"));
        assertPresentFails(record(VALUE_A), "Domain is not opted in to API access.");
    }

    /** Porkbun's API v3 as documented, in memory. */
    static final class FakePorkbun {

        private final Map<Long, Map<String, Object>> records = new LinkedHashMap<>();
        private long nextId = 106926652;

        FakePorkbun(FakeApi api, String apiKey, String secret, List<String> domains) {
            FakeApi.Guarded routes = api.guarded(r -> apiKey.equals(r.json().get("apikey").optional().map(JSON.Value::asString).orElse(null))
                    && secret.equals(r.json().get("secretapikey").optional().map(JSON.Value::asString).orElse(null)),
                    FakeApi.Response.json(400, "{\"status\":\"ERROR\",\"message\":\"Invalid API key. (001)\"}"));
            String v3 = "/api/json/v3";
            routes.on("POST", v3 + "/domain/listAll", r -> {
                int start = Integer.parseInt(r.json().get("start").optional().map(JSON.Value::asString).orElse("0"));
                List<Object> page = new ArrayList<>();
                for (String d : domains.subList(Math.min(start, domains.size()), Math.min(start + 1000, domains.size()))) {
                    page.add(Map.of("domain", d, "status", "ACTIVE", "tld", d.substring(d.lastIndexOf('.') + 1), "autoRenew", 1,
                            "notLocal", 0));
                }
                return FakeApi.Response.json(200, Map.of("status", "SUCCESS", "domains", page));
            });
            routes.on("POST", v3 + "/dns/retrieveByNameType/([^/]+)/TXT(?:/([^/]+))?", r -> {
                String fqdn = r.group(2) == null ? r.group(1) : r.group(2) + "." + r.group(1);
                synchronized (this) {
                    List<Object> found = records.values().stream().filter(x -> x.get("name").equals(fqdn)).map(x -> (Object) x).toList();
                    return FakeApi.Response.json(200, Map.of("status", "SUCCESS", "cloudflare", "enabled", "records", found));
                }
            });
            routes.on("POST", v3 + "/dns/create/([^/]+)", r -> {
                JSON body = r.json();
                String name = body.get("name").asString();
                synchronized (this) {
                    long id = nextId++;
                    Map<String, Object> record = new LinkedHashMap<>();
                    record.put("id", Long.toString(id));
                    record.put("name", name.isEmpty() ? r.group(1) : name + "." + r.group(1));
                    record.put("type", body.get("type").asString());
                    record.put("content", body.get("content").asString());
                    record.put("ttl", body.get("ttl").asString());
                    record.put("prio", "0");
                    record.put("notes", "");
                    records.put(id, record);
                    return FakeApi.Response.json(200, Map.of("status", "SUCCESS", "id", id));
                }
            });
            routes.on("POST", v3 + "/dns/delete/([^/]+)/([0-9]+)", r -> {
                synchronized (this) {
                    return records.remove(Long.parseLong(r.group(2))) == null
                            ? FakeApi.Response.json(400, "{\"status\":\"ERROR\",\"message\":\"Invalid record ID.\"}")
                            : FakeApi.Response.json(200, "{\"status\":\"SUCCESS\"}");
                }
            });
        }

        synchronized List<String> values(String fqdn) {
            return records.values().stream().filter(r -> r.get("name").equals(fqdn)).map(r -> (String) r.get("content")).toList();
        }
    }
}
