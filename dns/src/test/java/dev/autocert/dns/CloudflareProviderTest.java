package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * {@link CloudflareProvider} against a fake of Cloudflare's API v4 as its documentation
 * describes it: {@code /zones?name=}, {@code /zones/{id}/dns_records} with {@code page} and
 * {@code per_page} and {@code result_info.total_pages}, the {@code success/errors/result}
 * envelope, Bearer or X-Auth-Email/X-Auth-Key authentication.
 */
class CloudflareProviderTest extends HostedProviderContract {

    private static final String TOKEN = "cf-token-8f3a9c1d2e";

    private FakeCloudflare cloudflare;

    CloudflareProviderTest() {
        super(new CloudflareProvider.Factory(), "CLOUDFLARE_BASE_URL",
                new Registration("cloudflare", "CLOUDFLARE", Duration.ofSeconds(120), Duration.ofSeconds(2), 120));
    }

    @BeforeEach
    void start() {
        cloudflare = new FakeCloudflare(api, "Bearer " + TOKEN);
        cloudflare.zone("example.com");
    }

    @Override
    Map<String, String> credentials() {
        return atTheFake(Map.of("dns_cloudflare_api_token", TOKEN));
    }

    @Override
    List<String> values() {
        return cloudflare.values("_acme-challenge.example.com");
    }

    @Override
    int writes() {
        return api.requests("POST", ".*/dns_records").size() + api.requests("DELETE", ".*/dns_records/.*").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakeCloudflare(api, "Bearer something-else").zone("example.com");
        return new Refusal(provider(), List.of("10000: Authentication error", "403"), List.of(TOKEN));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("tried _acme-challenge.example.org, example.org", "Zone:Read");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_cloudflare_api_token", "CLOUDFLARE_DNS_API_TOKEN"),
                new Missing(Map.of("dns_cloudflare_email", "a@b.c"), "dns_cloudflare_api_key", "CLOUDFLARE_API_KEY"));
    }

    /** {@code values} with the fake's base URL. */
    private Map<String, String> atTheFake(Map<String, String> values) {
        Map<String, String> all = new HashMap<>(values);
        all.put("CLOUDFLARE_BASE_URL", api.url() + "/client/v4");
        return all;
    }

    @Test
    void presentThenCleanUpSendsTheDocumentedRequestsWithTheToken() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120));

        assertEquals(List.of("_acme-challenge.www.example.com", "www.example.com", "example.com"),
                api.requests("GET", "/client/v4/zones").stream().map(r -> r.param("name").orElseThrow()).toList());
        FakeApi.Request create = api.requests("POST", "/client/v4/zones/[^/]+/dns_records").get(0);
        JSON body = create.json();
        assertEquals("TXT", body.get("type").asString());
        assertEquals("_acme-challenge.www.example.com", body.get("name").asString());
        assertEquals("\"" + VALUE_A + "\"", body.get("content").asString());
        assertEquals(120, body.get("ttl").asInt());
        assertEquals(1, cloudflare.values("_acme-challenge.www.example.com").size());

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120));
        assertEquals(1, api.requests("DELETE", "/client/v4/zones/[^/]+/dns_records/[^/]+").size());
        assertTrue(cloudflare.values("_acme-challenge.www.example.com").isEmpty());
        assertEveryRequestCarries("Authorization", "Bearer " + TOKEN);
    }

    @Test
    void aRecordCreatedMeanwhileByAnotherProcessCountsAsPresent() throws Exception {
        // the list is empty when asked, then the create is refused as a duplicate: another process won
        api.on("POST", "/client/v4/zones/([^/]+)/dns_records", r -> {
            cloudflare.add("_acme-challenge.example.com", "\"" + VALUE_A + "\"");
            return FakeApi.Response.json(400, "{\"success\":false,\"errors\":[{\"code\":81058,\"message\":\"An identical record already "
                    + "exists.\"}],\"messages\":[],\"result\":null}");
        });
        provider().present(record(VALUE_A));
        assertEquals(List.of(VALUE_A), cloudflare.values("_acme-challenge.example.com"));
    }

    @Test
    void followsEveryPageOfTheRecordList() throws Exception {
        for (int i = 0; i < 230; i++) {
            cloudflare.add("_acme-challenge.example.com", "\"other-" + i + "\"");
        }
        cloudflare.add("_acme-challenge.example.com", "\"" + VALUE_A + "\"");

        assertTheThirdPageIsRead(".*/dns_records");
        assertEquals(230, cloudflare.values("_acme-challenge.example.com").size());
    }

    @Test
    void anErrorBodyThatEchoesTheTokenIsRedacted() throws Exception {
        api.on("GET", "/client/v4/zones", r -> FakeApi.Response.json(400, "{\"success\":false,\"errors\":[{\"code\":6003,\"message\":"
                + "\"Invalid request headers\",\"error_chain\":[]},{\"code\":6111,\"message\":\"Invalid format for Authorization header: "
                + r.header("Authorization") + "\"}],\"messages\":[],\"result\":null}"));
        AutocertException e = assertPresentFails(record(VALUE_A), "6003: Invalid request headers");
        assertFalse(e.getMessage().contains(TOKEN), e.getMessage());
    }

    @Test
    void theGlobalApiKeyAuthenticatesWithEmailAndKeyHeaders() throws Exception {
        api.close();
        api = FakeApi.start();
        cloudflare = new FakeCloudflare(api, null);
        cloudflare.zone("example.com");
        DnsProvider provider = provider(atTheFake(Map.of("CLOUDFLARE_EMAIL", "ops@example.com", "CLOUDFLARE_API_KEY", "global-key-77")));
        provider.present(record(VALUE_A));
        assertTrue(api.requests().stream().allMatch(r -> "ops@example.com".equals(r.header("X-Auth-Email"))
                && "global-key-77".equals(r.header("X-Auth-Key")) && r.header("Authorization") == null));
    }

    @Test
    void aZoneTokenReadsZonesAndTheDnsTokenChangesRecords() throws Exception {
        DnsProvider provider = provider(atTheFake(Map.of("CF_DNS_API_TOKEN", TOKEN, "CF_ZONE_API_TOKEN", "zone-token-5")));
        api.on("GET", "/client/v4/zones", r -> FakeApi.Response.json(200, "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":"
                + "[{\"id\":\"" + cloudflare.zoneId("example.com") + "\",\"name\":\"example.com\"}],\"result_info\":{\"page\":1,"
                + "\"per_page\":50,\"count\":1,\"total_count\":1,\"total_pages\":1}}"));
        provider.present(record(VALUE_A));
        assertEquals("Bearer zone-token-5", api.requests("GET", "/client/v4/zones").get(0).header("Authorization"));
        assertEquals("Bearer " + TOKEN, api.requests("POST", ".*/dns_records").get(0).header("Authorization"));
    }

    /** Cloudflare's API v4 as documented, holding zones and DNS records in memory. */
    static final class FakeCloudflare {

        private final Map<String, String> zones = new LinkedHashMap<>(); // id -> name
        private final Map<String, Map<String, Object>> records = new LinkedHashMap<>(); // id -> record

        FakeCloudflare(FakeApi api, String expectedAuthorization) {
            FakeApi.Guarded routes = api.guarded(r -> expectedAuthorization != null
                    ? expectedAuthorization.equals(r.header("Authorization")) : r.header("X-Auth-Email") != null && r.header("X-Auth-Key") != null,
                    FakeApi.Response.json(403, "{\"success\":false,\"errors\":[{\"code\":10000,\"message\":\"Authentication error\"}],"
                            + "\"messages\":[],\"result\":null}"));
            routes.on("GET", "/client/v4/zones", r -> {
                List<Object> result = new ArrayList<>();
                synchronized (this) {
                    zones.forEach((id, name) -> {
                        if (r.param("name").map(name::equals).orElse(true)) {
                            result.add(Map.of("id", id, "name", name, "status", "active"));
                        }
                    });
                }
                return page(result, 1, 50);
            });
            routes.on("GET", "/client/v4/zones/([^/]+)/dns_records", r -> {
                List<Object> result = new ArrayList<>();
                synchronized (this) {
                    for (Map<String, Object> record : records.values()) {
                        if (record.get("zone_id").equals(r.group(1)) && r.param("type").map(record.get("type")::equals).orElse(true)
                                && r.param("name").map(record.get("name")::equals).orElse(true)) {
                            result.add(record);
                        }
                    }
                }
                return page(result, r.intParam("page", 1), r.intParam("per_page", 100));
            });
            routes.on("POST", "/client/v4/zones/([^/]+)/dns_records", r -> {
                JSON body = r.json();
                synchronized (this) {
                    for (Map<String, Object> record : records.values()) {
                        if (record.get("name").equals(body.get("name").asString()) && record.get("content").equals(body.get("content").asString())) {
                            return FakeApi.Response.json(400, "{\"success\":false,\"errors\":[{\"code\":81058,\"message\":\"An identical "
                                    + "record already exists.\"}],\"messages\":[],\"result\":null}");
                        }
                    }
                    Map<String, Object> record = put(r.group(1), body.get("name").asString(), body.get("content").asString(),
                            body.get("ttl").asInt());
                    return FakeApi.Response.json(200, Map.of("success", true, "errors", List.of(), "messages", List.of(), "result", record));
                }
            });
            routes.on("DELETE", "/client/v4/zones/([^/]+)/dns_records/([^/]+)", r -> {
                synchronized (this) {
                    if (records.remove(r.group(2)) == null) {
                        return FakeApi.Response.json(404, "{\"success\":false,\"errors\":[{\"code\":81044,\"message\":\"Record does not "
                                + "exist.\"}],\"messages\":[],\"result\":null}");
                    }
                }
                return FakeApi.Response.json(200, Map.of("result", Map.of("id", r.group(2))));
            });
        }

        synchronized void zone(String name) {
            zones.put(UUID.randomUUID().toString().replace("-", ""), name);
        }

        synchronized String zoneId(String name) {
            return zones.entrySet().stream().filter(e -> e.getValue().equals(name)).findFirst().orElseThrow().getKey();
        }

        synchronized void add(String name, String content) {
            String zone = zones.entrySet().stream().filter(e -> name.endsWith(e.getValue())).findFirst().orElseThrow().getKey();
            put(zone, name, content, 120);
        }

        /** {@return the unquoted TXT values at {@code name}, in creation order} */
        synchronized List<String> values(String name) {
            return records.values().stream().filter(r -> r.get("name").equals(name))
                    .map(r -> ((String) r.get("content")).replace("\"", "")).toList();
        }

        private Map<String, Object> put(String zone, String name, String content, int ttl) {
            String id = UUID.randomUUID().toString().replace("-", "");
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("id", id);
            record.put("zone_id", zone);
            record.put("zone_name", zones.get(zone));
            record.put("name", name);
            record.put("type", "TXT");
            record.put("content", content);
            record.put("proxiable", false);
            record.put("proxied", false);
            record.put("ttl", ttl);
            records.put(id, record);
            return record;
        }

        private static FakeApi.Response page(List<Object> all, int page, int perPage) {
            int from = Math.min((page - 1) * perPage, all.size());
            List<Object> slice = all.subList(from, Math.min(from + perPage, all.size()));
            int pages = Math.max(1, (all.size() + perPage - 1) / perPage);
            return FakeApi.Response.json(200, Map.of("success", true, "errors", List.of(), "messages", List.of(), "result", slice,
                    "result_info", Map.of("page", page, "per_page", perPage, "count", slice.size(), "total_count", all.size(),
                            "total_pages", pages)));
        }
    }
}
