package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * {@link DnsimpleProvider} against a fake of DNSimple's API v2 as documented: {@code GET
 * /v2/whoami}, {@code GET /v2/{account}/zones/{zone}}, zone records filtered by {@code name} and
 * {@code type} and paged with {@code page}/{@code per_page} and {@code pagination.total_pages},
 * create 201, delete 204, TXT content returned quoted, errors as {@code {"message":…}}.
 */
class DnsimpleProviderTest extends HostedProviderContract {

    private static final String TOKEN = "dnsimple-acct-4f5e6d";

    private FakeDnsimple dnsimple;

    DnsimpleProviderTest() {
        super(new DnsimpleProvider.Factory(), "DNSIMPLE_BASE_URL",
                new Registration("dnsimple", "DNSIMPLE", Duration.ofSeconds(60), Duration.ofSeconds(2), 120));
    }

    @BeforeEach
    void start() {
        dnsimple = new FakeDnsimple(api, TOKEN, true);
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("dns_dnsimple_token", TOKEN, "DNSIMPLE_BASE_URL", api.url());
    }

    @Override
    List<String> values() {
        return dnsimple.values("_acme-challenge");
    }

    @Override
    int writes() {
        return api.requests("POST", ".*/records").size() + api.requests("DELETE", ".*/records/.*").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakeDnsimple(api, "another", true);
        return new Refusal(provider(), List.of("401", "Authentication failed"), List.of(TOKEN));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("no zone of account 1385 holds", "tried _acme-challenge.example.org, example.org");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_dnsimple_token", "DNSIMPLE_OAUTH_TOKEN"));
    }

    @Test
    void presentThenCleanUpSendsTheDocumentedRequestsWithTheToken() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120));

        assertEquals(1, api.requests("GET", "/v2/whoami").size());
        assertEquals(List.of("/v2/1385/zones/_acme-challenge.www.example.com", "/v2/1385/zones/www.example.com", "/v2/1385/zones/example.com"),
                api.requests("GET", "/v2/1385/zones/[^/]+").stream().map(FakeApi.Request::path).toList());
        FakeApi.Request list = api.requests("GET", "/v2/1385/zones/example.com/records").get(0);
        assertEquals("_acme-challenge.www", list.param("name").orElseThrow());
        assertEquals("TXT", list.param("type").orElseThrow());
        JSON body = api.requests("POST", "/v2/1385/zones/example.com/records").get(0).json();
        assertEquals("_acme-challenge.www", body.get("name").asString());
        assertEquals("TXT", body.get("type").asString());
        assertEquals(VALUE_A, body.get("content").asString());
        assertEquals(120, body.get("ttl").asInt());

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120));
        assertEquals(1, api.requests("DELETE", "/v2/1385/zones/example.com/records/[0-9]+").size());
        assertEquals(List.of(), dnsimple.values("_acme-challenge.www"));
        assertEveryRequestCarries("Authorization", "Bearer " + TOKEN);
    }

    @Test
    void followsEveryPageOfTheRecordList() throws Exception {
        for (int i = 0; i < 230; i++) {
            dnsimple.add("_acme-challenge", "other-" + i);
        }
        dnsimple.add("_acme-challenge", VALUE_A);

        assertTheThirdPageIsRead(".*/records");
        assertEquals(230, dnsimple.values("_acme-challenge").size());
    }

    @Test
    void aUserTokenIsRefusedWithTheFix() throws Exception {
        api.close();
        api = FakeApi.start();
        new FakeDnsimple(api, TOKEN, false);
        assertPresentFails(record(VALUE_A), "account token");
    }

    @Test
    void validationErrorsNameTheField() throws Exception {
        api.on("POST", "/v2/1385/zones/example.com/records", r -> FakeApi.Response.json(400,
                "{\"message\":\"Validation failed\",\"errors\":{\"ttl\":[\"must be greater than or equal to 60\"]}}"));
        assertPresentFails(new TxtRecord(name(), VALUE_A, 10), "Validation failed: ttl must be greater than or equal to 60");
    }

    /** DNSimple's API v2 as documented, in memory; account 1385 with one zone, example.com. */
    static final class FakeDnsimple {

        private final Map<Long, Map<String, Object>> records = new LinkedHashMap<>();
        private long nextId = 64784;

        FakeDnsimple(FakeApi api, String token, boolean accountToken) {
            FakeApi.Guarded routes = api.guarded(r -> ("Bearer " + token).equals(r.header("Authorization")),
                    FakeApi.Response.json(401, "{\"message\":\"Authentication failed\"}"));
            routes.on("GET", "/v2/whoami", r -> {
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("user", accountToken ? null : Map.of("id", 7, "email", "ops@example.com"));
                data.put("account", accountToken ? Map.of("id", 1385, "email", "ops@example.com", "plan_identifier", "teams-v1-monthly")
                        : null);
                return FakeApi.Response.json(200, Map.of("data", data));
            });
            routes.on("GET", "/v2/1385/zones/([^/]+)", r -> r.group(1).equals("example.com")
                    ? FakeApi.Response.json(200, Map.of("data", Map.of("id", 1, "account_id", 1385, "name", "example.com",
                            "reverse", false)))
                    : FakeApi.Response.json(404, "{\"message\":\"Zone `" + r.group(1) + "` not found\"}"));
            routes.on("GET", "/v2/1385/zones/example.com/records", r -> {
                int page = r.intParam("page", 1);
                int perPage = r.intParam("per_page", 30);
                List<Object> matching = new ArrayList<>();
                synchronized (this) {
                    for (Map<String, Object> record : records.values()) {
                        if (r.param("name").map(record.get("name")::equals).orElse(true)
                                && r.param("type").map(record.get("type")::equals).orElse(true)) {
                            matching.add(record);
                        }
                    }
                }
                int from = Math.min((page - 1) * perPage, matching.size());
                return FakeApi.Response.json(200, Map.of("data", matching.subList(from, Math.min(from + perPage, matching.size())),
                        "pagination", Map.of("current_page", page, "per_page", perPage, "total_entries", matching.size(),
                                "total_pages", Math.max(1, (matching.size() + perPage - 1) / perPage))));
            });
            routes.on("POST", "/v2/1385/zones/example.com/records", r -> {
                JSON body = r.json();
                synchronized (this) {
                    return FakeApi.Response.json(201, Map.of("data", put(body.get("name").asString(), body.get("content").asString())));
                }
            });
            routes.on("DELETE", "/v2/1385/zones/example.com/records/([0-9]+)", r -> {
                synchronized (this) {
                    return records.remove(Long.parseLong(r.group(1))) == null
                            ? FakeApi.Response.json(404, "{\"message\":\"Record `" + r.group(1) + "` not found\"}")
                            : FakeApi.Response.empty(204);
                }
            });
        }

        synchronized void add(String name, String content) {
            put(name, content);
        }

        synchronized List<String> values(String name) {
            return records.values().stream().filter(r -> r.get("name").equals(name))
                    .map(r -> ((String) r.get("content")).replace("\"", "")).toList();
        }

        /** Stores the content quoted, as DNSimple normalises TXT records. */
        private Map<String, Object> put(String name, String content) {
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("id", nextId++);
            record.put("zone_id", "example.com");
            record.put("parent_id", null);
            record.put("name", name);
            record.put("content", content.startsWith("\"") ? content : "\"" + content + "\"");
            record.put("ttl", 120);
            record.put("priority", null);
            record.put("type", "TXT");
            record.put("regions", List.of("global"));
            record.put("system_record", false);
            records.put((Long) record.get("id"), record);
            return record;
        }
    }
}
