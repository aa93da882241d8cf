package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import dev.autocert.core.InvalidSettingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * {@link HetznerProvider} against a fake of the Hetzner Cloud API's DNS part as documented:
 * {@code GET /zones?name=}, {@code GET /zones/{id}/rrsets/{name}/TXT}, the RRSet actions {@code
 * add_records} and {@code remove_records} answering 201 with a running action, {@code GET
 * /actions/{id}}, and errors as {@code {"error":{"code":…,"message":…}}}.
 */
class HetznerProviderTest extends HostedProviderContract {

    private static final String TOKEN = "hz-Vq3T9pLrX2";

    private FakeHetzner hetzner;

    HetznerProviderTest() {
        super(new HetznerProvider.Factory(), "HETZNER_BASE_URL",
                new Registration("hetzner", "HETZNER", Duration.ofSeconds(60), Duration.ofSeconds(2), 120));
    }

    @BeforeEach
    void start() {
        hetzner = new FakeHetzner(api, TOKEN);
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("dns_hetzner_api_token", TOKEN, "HETZNER_BASE_URL", api.url() + "/v1");
    }

    @Override
    List<String> values() {
        return hetzner.values("_acme-challenge");
    }

    @Override
    int writes() {
        return api.requests("POST", ".*/(add|remove)_records").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakeHetzner(api, "another-token");
        return new Refusal(provider(), List.of("401", "unauthorized: unable to authenticate"), List.of(TOKEN));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("tried _acme-challenge.example.org, example.org");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_hetzner_api_token", "HETZNER_API_TOKEN"));
    }

    @Test
    void presentThenCleanUpUseTheRrsetActionsWithTheToken() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120));

        assertEquals(List.of("_acme-challenge.www.example.com", "www.example.com", "example.com"),
                api.requests("GET", "/v1/zones").stream().map(r -> r.param("name").orElseThrow()).toList());
        FakeApi.Request add = api.requests("POST", "/v1/zones/4711/rrsets/_acme-challenge.www/TXT/actions/add_records").get(0);
        JSON body = add.json();
        assertEquals(120, body.get("ttl").asInt());
        assertEquals("\"" + VALUE_A + "\"", body.get("records").asArray().get(0).asObject().get("value").asString());
        assertFalse(api.requests("GET", "/v1/actions/[0-9]+").isEmpty(), "the running action was not awaited");
        assertEquals(List.of(VALUE_A), hetzner.values("_acme-challenge.www"));

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120));
        JSON remove = api.requests("POST", "/v1/zones/4711/rrsets/_acme-challenge.www/TXT/actions/remove_records").get(0).json();
        assertEquals("\"" + VALUE_A + "\"", remove.get("records").asArray().get(0).asObject().get("value").asString());
        assertEquals(List.of(), hetzner.values("_acme-challenge.www"));
        assertEveryRequestCarries("Authorization", "Bearer " + TOKEN);
    }

    @Test
    void aSecondValueLeavesTheRrsetsTtlAlone() throws Exception {
        DnsProvider provider = provider();
        provider.present(record(VALUE_A));
        provider.present(record(VALUE_B));
        assertEquals(120, api.requests("POST", ".*/add_records").get(0).json().get("ttl").asInt());
        assertFalse(api.requests("POST", ".*/add_records").get(1).json().contains("ttl"));
    }

    @Test
    void aRecordAtTheZoneApexIsNamedAt() throws Exception {
        provider().present(new TxtRecord("example.com.", VALUE_A, 120));
        assertEquals(1, api.requests("POST", "/v1/zones/4711/rrsets/@/TXT/actions/add_records").size());
    }

    @Test
    void anActionThatEndsInErrorFailsWithItsMessage() throws Exception {
        hetzner.failActions = true;
        assertPresentFails(record(VALUE_A), "hetzner", "action_failed: Action failed");
    }

    @Test
    void anOldDnsConsoleKeyIsRefusedWithTheFix() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> new HetznerProvider.Factory().create(DnsCredentials.of("hetzner", Map.of("HETZNER_API_KEY", "old-key"))));
        assertTrue(e.getMessage().contains("HETZNER_API_KEY"), e.getMessage());
        assertTrue(e.getMessage().contains("HETZNER_API_TOKEN"), e.getMessage());
        assertFalse(e.getMessage().contains("old-key"), e.getMessage());
    }

    /** The Hetzner Cloud API's zones, RRSets and actions as documented, in memory; one zone, example.com (id 4711). */
    static final class FakeHetzner {

        volatile boolean failActions;
        private final Map<String, List<String>> rrsets = new LinkedHashMap<>(); // relative name -> quoted values
        private final Map<Long, Integer> polls = new LinkedHashMap<>();
        private long nextAction = 1;

        FakeHetzner(FakeApi api, String token) {
            FakeApi.Guarded routes = api.guarded(r -> ("Bearer " + token).equals(r.header("Authorization")), FakeApi.Response.json(401,
                    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"unable to authenticate\",\"details\":{}}}"));
            routes.on("GET", "/v1/zones", r -> {
                List<Object> zones = new ArrayList<>();
                if (r.param("name").map("example.com"::equals).orElse(true)) {
                    zones.add(Map.of("id", 4711, "name", "example.com", "mode", "primary", "ttl", 3600, "status", "ok"));
                }
                return FakeApi.Response.json(200, Map.of("zones", zones, "meta", Map.of("pagination", Map.of("page", 1, "per_page", 25,
                        "last_page", 1, "total_entries", zones.size()))));
            });
            routes.on("GET", "/v1/zones/4711/rrsets/([^/]+)/TXT", r -> {
                synchronized (this) {
                    List<String> values = rrsets.get(r.group(1));
                    if (values == null) {
                        return FakeApi.Response.json(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"rrset not found\",\"details\":{}}}");
                    }
                    List<Object> records = new ArrayList<>();
                    values.forEach(v -> records.add(Map.of("value", v, "comment", "")));
                    return FakeApi.Response.json(200, Map.of("rrset", Map.of("id", r.group(1) + "/TXT", "name", r.group(1), "type", "TXT",
                            "ttl", 120, "labels", Map.of(), "protection", Map.of("change", false), "records", records, "zone", 4711)));
                }
            });
            routes.on("POST", "/v1/zones/4711/rrsets/([^/]+)/TXT/actions/(add|remove)_records", r -> {
                synchronized (this) {
                    List<String> values = rrsets.computeIfAbsent(r.group(1), k -> new ArrayList<>());
                    for (JSON.Value record : r.json().get("records").asArray()) {
                        String value = record.asObject().get("value").asString();
                        if (!value.startsWith("\"")) {
                            return FakeApi.Response.json(422, "{\"error\":{\"code\":\"invalid_input\",\"message\":\"TXT value must be "
                                    + "quoted\",\"details\":{}}}");
                        }
                        if (r.group(2).equals("add") && !values.contains(value)) {
                            values.add(value);
                        } else if (r.group(2).equals("remove")) {
                            values.remove(value);
                        }
                    }
                    if (values.isEmpty()) {
                        rrsets.remove(r.group(1));
                    }
                    long id = nextAction++;
                    polls.put(id, 0);
                    return FakeApi.Response.json(201, Map.of("action", action(id, r.group(2) + "_rrset_records", "running")));
                }
            });
            routes.on("GET", "/v1/actions/([0-9]+)", r -> {
                synchronized (this) {
                    long id = Long.parseLong(r.group(1));
                    int n = polls.merge(id, 1, Integer::sum);
                    String status = n < 2 ? "running" : failActions ? "error" : "success";
                    return FakeApi.Response.json(200, Map.of("action", action(id, "add_rrset_records", status)));
                }
            });
        }

        synchronized List<String> values(String name) {
            return rrsets.getOrDefault(name, List.of()).stream().map(v -> v.substring(1, v.length() - 1)).toList();
        }

        private static Map<String, Object> action(long id, String command, String status) {
            Map<String, Object> action = new LinkedHashMap<>();
            action.put("id", id);
            action.put("command", command);
            action.put("status", status);
            action.put("progress", status.equals("running") ? 50 : 100);
            action.put("started", "2026-07-01T10:00:00+00:00");
            action.put("finished", status.equals("running") ? null : "2026-07-01T10:00:01+00:00");
            action.put("resources", List.of(Map.of("id", 4711, "type", "zone")));
            action.put("error", status.equals("error") ? Map.of("code", "action_failed", "message", "Action failed") : null);
            return action;
        }
    }
}
