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
 * {@link GandiProvider} against a fake of Gandi's LiveDNS API v5 as documented: {@code GET
 * /domains/{fqdn}}, record sets at {@code /domains/{fqdn}/records/{name}/TXT} read with {@code
 * GET}, replaced with {@code PUT} ({@code rrset_ttl}, {@code rrset_values}; 201) and removed with
 * {@code DELETE} (204), Bearer or Apikey authorization, errors as {@code
 * {"code":…,"message":…,"object":…,"cause":…}}.
 */
class GandiProviderTest extends HostedProviderContract {

    private static final String TOKEN = "pat_0c1d2e3f4a5b";

    private FakeGandi gandi;

    GandiProviderTest() {
        super(new GandiProvider.Factory(), "GANDIV5_BASE_URL",
                new Registration("gandi", "GANDIV5", Duration.ofSeconds(1200), Duration.ofSeconds(20), 300));
    }

    @BeforeEach
    void start() {
        gandi = new FakeGandi(api, "Bearer " + TOKEN);
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("dns_gandi_token", TOKEN, "GANDIV5_BASE_URL", api.url() + "/v5/livedns");
    }

    @Override
    List<String> values() {
        return gandi.values("_acme-challenge");
    }

    @Override
    int writes() {
        return api.requests("PUT", ".*").size() + api.requests("DELETE", ".*").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakeGandi(api, "Bearer another");
        return new Refusal(provider(), List.of("401", "Unauthorized: The server could not verify"), List.of(TOKEN));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("no domain in LiveDNS holds", "tried _acme-challenge.example.org, example.org");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_gandi_token", "GANDIV5_PERSONAL_ACCESS_TOKEN"));
    }

    @Test
    void presentThenCleanUpSendsTheDocumentedRequestsWithTheToken() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 300));

        assertEquals(List.of("/v5/livedns/domains/_acme-challenge.www.example.com", "/v5/livedns/domains/www.example.com",
                "/v5/livedns/domains/example.com"), api.requests("GET", "/v5/livedns/domains/[^/]+").stream().map(FakeApi.Request::path).toList());
        JSON put = api.requests("PUT", "/v5/livedns/domains/example.com/records/_acme-challenge.www/TXT").get(0).json();
        assertEquals(300, put.get("rrset_ttl").asInt());
        assertEquals("\"" + VALUE_A + "\"", put.get("rrset_values").asArray().get(0).asString());

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 300));
        assertEquals(1, api.requests("DELETE", "/v5/livedns/domains/example.com/records/_acme-challenge.www/TXT").size());
        assertEquals(List.of(), gandi.values("_acme-challenge.www"));
        assertEveryRequestCarries("Authorization", "Bearer " + TOKEN);
    }

    @Test
    void anotherValueKeepsItsQuotingAndTheSetItsTtl() throws Exception {
        gandi.put("_acme-challenge", 1800, List.of("\"v=spf1 -all\""));
        provider().present(record(VALUE_A));
        JSON put = api.requests("PUT", ".*").get(0).json();
        assertEquals(1800, put.get("rrset_ttl").asInt());
        assertEquals("\"v=spf1 -all\"", put.get("rrset_values").asArray().get(0).asString());
        provider().cleanUp(record(VALUE_A));
        assertEquals(List.of("v=spf1 -all"), gandi.values("_acme-challenge"));
    }

    @Test
    void theApexIsNamedAtAndASharingIdIsSent() throws Exception {
        new GandiProvider.Factory().create(DnsCredentials.of("gandi", Map.of("dns_gandi_token", TOKEN, "dns_gandi_sharing_id",
                "8f2a6c1e-org", "GANDIV5_BASE_URL", api.url() + "/v5/livedns"))).present(new TxtRecord("example.com.", VALUE_A, 300));
        FakeApi.Request put = api.requests("PUT", "/v5/livedns/domains/example.com/records/@/TXT").get(0);
        assertEquals("8f2a6c1e-org", put.param("sharing_id").orElseThrow());
    }

    @Test
    void theDeprecatedApiKeyAuthenticatesWithApikey() throws Exception {
        new FakeGandi(api, "Apikey old-key-9");
        new GandiProvider.Factory().create(DnsCredentials.of("gandi", Map.of("GANDIV5_API_KEY", "old-key-9", "GANDIV5_BASE_URL",
                api.url() + "/v5/livedns"))).present(record(VALUE_A));
        assertTrue(api.requests().stream().allMatch(r -> "Apikey old-key-9".equals(r.header("Authorization"))));
    }

    @Test
    void refusedValuesAreNamed() throws Exception {
        api.on("PUT", "/v5/livedns/domains/example.com/records/([^/]+)/TXT", r -> FakeApi.Response.json(400,
                "{\"status\":\"error\",\"errors\":[{\"location\":\"body\",\"name\":\"rrset_ttl\",\"description\":\"Must be at least 300\"}]}"));
        assertPresentFails(new TxtRecord(name(), VALUE_A, 60), "rrset_ttl: Must be at least 300");
    }

    /** Gandi's LiveDNS API as documented, in memory; one domain, example.com. */
    static final class FakeGandi {

        private final Map<String, List<String>> rrsets = new LinkedHashMap<>();
        private final Map<String, Integer> ttls = new LinkedHashMap<>();

        FakeGandi(FakeApi api, String authorization) {
            FakeApi.Guarded routes = api.guarded(r -> authorization.equals(r.header("Authorization")), FakeApi.Response.json(401,
                    "{\"code\":401,\"message\":\"The server could not verify that you are authorized to access the document you "
                    + "requested.\",\"object\":\"HTTPUnauthorized\",\"cause\":\"Unauthorized\"}"));
            String domains = "/v5/livedns/domains";
            routes.on("GET", domains + "/([^/]+)", r -> r.group(1).equals("example.com")
                    ? FakeApi.Response.json(200, Map.of("fqdn", "example.com", "domain_href", "https://api.gandi.net/v5/livedns/domains/"
                            + "example.com", "automatic_snapshots", true))
                    : FakeApi.Response.json(404, "{\"code\":404,\"message\":\"Unknown domain\",\"object\":\"LocalizedHTTPNotFound\","
                            + "\"cause\":\"Not Found\"}"));
            routes.on("GET", domains + "/example.com/records/([^/]+)/TXT", r -> {
                synchronized (this) {
                    List<String> values = rrsets.get(r.group(1));
                    return values == null
                            ? FakeApi.Response.json(404, "{\"code\":404,\"message\":\"Can't find the DNS record " + r.group(1)
                                    + "/TXT in the zone\",\"object\":\"dns-record\",\"cause\":\"Not Found\"}")
                            : FakeApi.Response.json(200, Map.of("rrset_name", r.group(1), "rrset_type", "TXT", "rrset_ttl",
                                    ttls.get(r.group(1)), "rrset_values", values));
                }
            });
            routes.on("PUT", domains + "/example.com/records/([^/]+)/TXT", r -> {
                JSON body = r.json();
                List<String> values = new ArrayList<>();
                body.get("rrset_values").asArray().forEach(v -> values.add(v.asString()));
                synchronized (this) {
                    rrsets.put(r.group(1), values);
                    ttls.put(r.group(1), body.get("rrset_ttl").asInt());
                }
                return FakeApi.Response.json(201, "{\"message\":\"DNS Record Created\"}");
            });
            routes.on("DELETE", domains + "/example.com/records/([^/]+)/TXT", r -> {
                synchronized (this) {
                    rrsets.remove(r.group(1));
                }
                return FakeApi.Response.empty(204);
            });
        }

        synchronized void put(String name, int ttl, List<String> values) {
            rrsets.put(name, new ArrayList<>(values));
            ttls.put(name, ttl);
        }

        synchronized List<String> values(String name) {
            return rrsets.getOrDefault(name, List.of()).stream().map(v -> v.substring(1, v.length() - 1)).toList();
        }
    }
}
