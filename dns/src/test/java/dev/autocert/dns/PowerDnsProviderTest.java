package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import dev.autocert.testkit.PowerDnsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * {@link PowerDnsProvider} against a fake of the PowerDNS Authoritative HTTP API as documented
 * ({@code GET /api/v1/servers/localhost/zones?zone=}, the zone's {@code rrsets}, {@code PATCH}
 * with {@code REPLACE}/{@code DELETE} answering 204, {@code X-API-Key}, errors as {@code
 * {"error":…}}), and against a real {@code pdns_server}, asked over DNS what it serves.
 */
class PowerDnsProviderTest extends HostedProviderContract {

    private static final String KEY = "pdns-key-1f2e3d4c";
    private static final String NAME = "_acme-challenge.example.com.";

    private FakePowerDns pdns;

    PowerDnsProviderTest() {
        super(new PowerDnsProvider.Factory(), "PDNS_API_URL",
                new Registration("powerdns", "PDNS", Duration.ofSeconds(120), Duration.ofSeconds(2), 120));
    }

    @BeforeEach
    void start() {
        pdns = new FakePowerDns(api, KEY, "Native");
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("PDNS_API_URL", api.url() + "/", "PDNS_API_KEY", KEY);
    }

    @Override
    List<String> values() {
        return pdns.values(NAME);
    }

    @Override
    int writes() {
        return api.requests("PATCH", ".*").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakePowerDns(api, "another-key", "Native");
        return new Refusal(provider(), List.of("401"), List.of(KEY));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("tried _acme-challenge.example.org., example.org.");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of("PDNS_API_KEY", KEY), "dns_powerdns_api_url", "PDNS_API_URL"),
                new Missing(Map.of("PDNS_API_URL", "http://127.0.0.1:8081"), "dns_powerdns_api_key", "PDNS_API_KEY"));
    }

    @Test
    void presentThenCleanUpSendsTheDocumentedRequestsWithTheKey() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120));

        assertEquals(List.of("_acme-challenge.www.example.com.", "www.example.com.", "example.com."),
                api.requests("GET", "/api/v1/servers/localhost/zones").stream().map(r -> r.param("zone").orElseThrow()).toList());
        JSON patch = api.requests("PATCH", "/api/v1/servers/localhost/zones/example.com.").get(0).json();
        JSON rrset = patch.get("rrsets").asArray().get(0).asObject();
        assertEquals("_acme-challenge.www.example.com.", rrset.get("name").asString());
        assertEquals("TXT", rrset.get("type").asString());
        assertEquals("REPLACE", rrset.get("changetype").asString());
        assertEquals(120, rrset.get("ttl").asInt());
        assertEquals("\"" + VALUE_A + "\"", rrset.get("records").asArray().get(0).asObject().get("content").asString());

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 120));
        JSON delete = api.requests("PATCH", "/api/v1/servers/localhost/zones/example.com.").get(1).json();
        assertEquals("DELETE", delete.get("rrsets").asArray().get(0).asObject().get("changetype").asString());
        assertEquals(List.of(), pdns.values("_acme-challenge.www.example.com."));
        assertTrue(api.requests().stream().allMatch(r -> KEY.equals(r.header("X-API-Key"))));
        assertTrue(api.requests("PUT", ".*/notify").isEmpty(), "a Native zone has no secondaries to notify");
        assertTrue(api.unrouted().isEmpty(), () -> "unexpected requests: " + api.unrouted());
    }

    @Test
    void otherRecordsKeepTheirDisabledFlagAndTheRrsetItsTtl() throws Exception {
        pdns.put(NAME, 300, Map.of("\"keep me\"", true));
        provider().present(record(VALUE_A));
        JSON rrset = api.requests("PATCH", ".*").get(0).json().get("rrsets").asArray().get(0).asObject();
        assertEquals(300, rrset.get("ttl").asInt());
        JSON kept = rrset.get("records").asArray().get(0).asObject();
        assertEquals("\"keep me\"", kept.get("content").asString());
        assertTrue(kept.get("disabled").asBoolean());
    }

    @Test
    void aPrimaryZonesSecondariesAreNotified() throws Exception {
        new FakePowerDns(api, KEY, "Master");
        provider().present(record(VALUE_A));
        assertEquals(1, api.requests("PUT", "/api/v1/servers/localhost/zones/example.com./notify").size());
    }

    @Test
    void aRefusedChangeFailsWithPowerDnssMessage() throws Exception {
        api.on("PATCH", "/api/v1/servers/localhost/zones/([^/]+)", r -> FakeApi.Response.json(422,
                "{\"error\":\"RRset _acme-challenge.example.com. IN TXT: Conflicts with pre-existing RRset\"}"));
        assertPresentFails(record(VALUE_A), "422", "Conflicts with pre-existing RRset");
    }

    @Test
    void aUrlGivenDownToTheApiPathAndCertbotsKeysWork() throws Exception {
        new PowerDnsProvider.Factory().create(DnsCredentials.of("powerdns",
                Map.of("dns_powerdns_api_url", api.url() + "/api/v1", "dns_powerdns_api_key", KEY)))
                .present(record(VALUE_A));
        new PowerDnsProvider.Factory().create(DnsCredentials.of("powerdns",
                Map.of("dns_pdns_endpoint", api.url(), "dns_pdns_api_key", KEY, "dns_pdns_server_id", "localhost")))
                .present(record(VALUE_B));
        assertEquals(List.of(VALUE_A, VALUE_B), pdns.values(NAME));
    }

    /** Against a real PowerDNS Authoritative Server with its API, zone example.test. */
    @Nested
    class AgainstPowerDns {

        @RegisterExtension
        static final PowerDnsServer SERVER = PowerDnsServer.builder().build();

        private static final String CHALLENGE = "_acme-challenge.example.test.";

        private DnsProvider real(String key) {
            return new PowerDnsProvider.Factory().create(DnsCredentials.of("powerdns",
                    Map.of("PDNS_API_URL", "http://127.0.0.1:" + SERVER.apiPort(), "PDNS_API_KEY", key)));
        }

        @Test
        void wildcardAndApexValuesAreServedTogetherAndRemovedOneByOne() throws Exception {
            DnsProvider provider = real(SERVER.apiKey());
            SERVER.addRecord(CHALLENGE, "TXT", "\"someone else's\"");
            provider.present(new TxtRecord(CHALLENGE, VALUE_A, 60));
            provider.present(new TxtRecord(CHALLENGE, VALUE_B, 60));
            provider.present(new TxtRecord(CHALLENGE, VALUE_B, 60));
            assertEquals(sorted(List.of("someone else's", VALUE_A, VALUE_B)), sorted(SERVER.txt(CHALLENGE)));

            provider.cleanUp(new TxtRecord(CHALLENGE, VALUE_A, 60));
            assertEquals(sorted(List.of("someone else's", VALUE_B)), sorted(SERVER.txt(CHALLENGE)));
            provider.cleanUp(new TxtRecord(CHALLENGE, VALUE_B, 60));
            provider.cleanUp(new TxtRecord(CHALLENGE, VALUE_B, 60));
            assertEquals(List.of("someone else's"), SERVER.txt(CHALLENGE));
            SERVER.removeRecords(CHALLENGE, "TXT");
        }

        @Test
        void concurrentChangesAtOneNameLoseNoValue() throws Exception {
            List<String> values = List.of(VALUE_A, VALUE_B, "c".repeat(43), "d".repeat(43));
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (String value : values) {
                    futures.add(pool.submit(() -> {
                        real(SERVER.apiKey()).present(new TxtRecord(CHALLENGE, value, 60));
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
                assertEquals(sorted(values), sorted(SERVER.txt(CHALLENGE)));
                futures.clear();
                for (String value : values) {
                    futures.add(pool.submit(() -> {
                        real(SERVER.apiKey()).cleanUp(new TxtRecord(CHALLENGE, value, 60));
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(List.of(), SERVER.txt(CHALLENGE));
        }

        @Test
        void aWrongKeyFailsWith401AndWithoutTheKey() {
            AutocertException e = assertThrows(AutocertException.class,
                    () -> real("wrong-key-123").present(new TxtRecord(CHALLENGE, VALUE_A, 60)));
            assertTrue(e.getMessage().contains("powerdns"), e.getMessage());
            assertTrue(e.getMessage().contains("401"), e.getMessage());
            assertFalse(e.getMessage().contains("wrong-key-123"), e.getMessage());
        }

        private static List<String> sorted(List<String> values) {
            return values.stream().sorted().toList();
        }
    }

    /** The PowerDNS Authoritative HTTP API as documented, in memory; one zone, example.com. */
    static final class FakePowerDns {

        private final Map<String, Map<String, Boolean>> txt = new LinkedHashMap<>(); // name -> content -> disabled
        private final Map<String, Integer> ttls = new LinkedHashMap<>();

        FakePowerDns(FakeApi api, String key, String kind) {
            FakeApi.Guarded routes = api.guarded(r -> key.equals(r.header("X-API-Key")),
                    FakeApi.Response.json(401, "{\"error\":\"Unauthorized\"}"));
            String zones = "/api/v1/servers/localhost/zones";
            routes.on("GET", zones, r -> {
                List<Object> list = new ArrayList<>();
                if (r.param("zone").map("example.com."::equals).orElse(true)) {
                    list.add(zone(kind, false));
                }
                return FakeApi.Response.json(200, list);
            });
            // first, so that the routes after it win for example.com.
            routes.on("GET", zones + "/([^/]+)", r -> FakeApi.Response.json(404, "{\"error\":\"Could not find domain '" + r.group(1) + "'\"}"));
            routes.on("GET", zones + "/example.com.", r -> {
                Map<String, Object> zone = zone(kind, true);
                if (r.param("rrset_name").isPresent()) {
                    @SuppressWarnings("unchecked")
                    List<Map<String, Object>> rrsets = (List<Map<String, Object>>) zone.get("rrsets");
                    zone.put("rrsets", rrsets.stream().filter(s -> s.get("name").equals(r.param("rrset_name").get())
                            && r.param("rrset_type").map(s.get("type")::equals).orElse(true)).toList());
                }
                return FakeApi.Response.json(200, zone);
            });
            routes.on("PATCH", zones + "/example.com.", r -> {
                synchronized (this) {
                    for (JSON.Value v : r.json().get("rrsets").asArray()) {
                        JSON rrset = v.asObject();
                        String name = rrset.get("name").asString();
                        if (rrset.get("changetype").asString().equals("DELETE")) {
                            txt.remove(name);
                            ttls.remove(name);
                            continue;
                        }
                        Map<String, Boolean> contents = new LinkedHashMap<>();
                        for (JSON.Value rr : rrset.get("records").asArray()) {
                            String content = rr.asObject().get("content").asString();
                            if (!content.startsWith("\"")) {
                                return FakeApi.Response.json(422, "{\"error\":\"Parsing record content (try 'pdnsutil check-zone'): "
                                        + "Data field in DNS should start with quote (\\\") at position 0 of '" + content + "'\"}");
                            }
                            contents.put(content, rr.asObject().get("disabled").asBoolean());
                        }
                        txt.put(name, contents);
                        ttls.put(name, rrset.get("ttl").asInt());
                    }
                }
                return FakeApi.Response.empty(204);
            });
            routes.on("PUT", zones + "/example.com./notify", r -> FakeApi.Response.json(200, "{\"result\":\"Notification queued\"}"));
        }

        synchronized void put(String name, int ttl, Map<String, Boolean> contents) {
            txt.put(name, new LinkedHashMap<>(contents));
            ttls.put(name, ttl);
        }

        synchronized List<String> values(String name) {
            return txt.getOrDefault(name, Map.of()).keySet().stream().map(v -> v.substring(1, v.length() - 1)).toList();
        }

        private synchronized Map<String, Object> zone(String kind, boolean withRrsets) {
            Map<String, Object> zone = new LinkedHashMap<>();
            zone.put("id", "example.com.");
            zone.put("name", "example.com.");
            zone.put("kind", kind);
            zone.put("url", "/api/v1/servers/localhost/zones/example.com.");
            zone.put("serial", 2026070101);
            zone.put("dnssec", false);
            if (withRrsets) {
                List<Object> rrsets = new ArrayList<>();
                rrsets.add(Map.of("name", "example.com.", "type", "SOA", "ttl", 3600, "comments", List.of(), "records",
                        List.of(Map.of("content", "ns1.example.com. hostmaster.example.com. 2026070101 10800 3600 604800 3600",
                                "disabled", false))));
                txt.forEach((name, contents) -> {
                    List<Object> records = new ArrayList<>();
                    contents.forEach((content, disabled) -> records.add(Map.of("content", content, "disabled", disabled)));
                    rrsets.add(Map.of("name", name, "type", "TXT", "ttl", ttls.get(name), "comments", List.of(), "records", records));
                });
                zone.put("rrsets", rrsets);
            }
            return zone;
        }
    }
}
