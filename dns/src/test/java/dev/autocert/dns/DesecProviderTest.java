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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * {@link DesecProvider} against a fake of deSEC's API as documented: {@code GET
 * /domains/?owns_qname=} answering an array, RRsets at {@code /domains/{name}/rrsets/{subname}/TXT/}
 * ({@code @} for the apex), {@code POST} to create, {@code PATCH} to change (an empty {@code
 * records} deletes, 204), {@code Authorization: Token}, errors as {@code {"detail":…}} or per
 * field, 429 with {@code Retry-After}.
 */
class DesecProviderTest extends HostedProviderContract {

    private static final String TOKEN = "desec-TkN-3b7f1a";

    private FakeDesec desec;

    DesecProviderTest() {
        super(new DesecProvider.Factory(), "dns_desec_endpoint",
                new Registration("desec", "DESEC", Duration.ofSeconds(120), Duration.ofSeconds(4), 3600));
    }

    @BeforeEach
    void start() {
        desec = new FakeDesec(api, TOKEN);
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("dns_desec_token", TOKEN, "dns_desec_endpoint", api.url() + "/api/v1/");
    }

    @Override
    List<String> values() {
        return desec.values("_acme-challenge");
    }

    @Override
    int writes() {
        return api.requests("POST", ".*").size() + api.requests("PATCH", ".*").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakeDesec(api, "another-token");
        return new Refusal(provider(), List.of("401", "Invalid token."), List.of(TOKEN));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("no domain of this account holds _acme-challenge.example.org.");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_desec_token", "DESEC_TOKEN"));
    }

    @Test
    void presentThenCleanUpSendsTheDocumentedRequestsWithTheToken() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 3600));

        assertEquals("_acme-challenge.www.example.com", api.requests("GET", "/api/v1/domains/").get(0).param("owns_qname").orElseThrow());
        assertEquals(1, api.requests("GET", "/api/v1/domains/example.com/rrsets/_acme-challenge.www/TXT/").size());
        JSON body = api.requests("POST", "/api/v1/domains/example.com/rrsets/").get(0).json();
        assertEquals("_acme-challenge.www", body.get("subname").asString());
        assertEquals("TXT", body.get("type").asString());
        assertEquals(3600, body.get("ttl").asInt());
        assertEquals("\"" + VALUE_A + "\"", body.get("records").asArray().get(0).asString());

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 3600));
        JSON patch = api.requests("PATCH", "/api/v1/domains/example.com/rrsets/_acme-challenge.www/TXT/").get(0).json();
        assertTrue(patch.get("records").asArray().isEmpty());
        assertEquals(List.of(), desec.values("_acme-challenge.www"));
        assertEveryRequestCarries("Authorization", "Token " + TOKEN);
    }

    @Test
    void anRrsetCreatedMeanwhileElsewhereIsReadAgainAndExtended() throws Exception {
        AtomicInteger posts = new AtomicInteger();
        api.on("POST", "/api/v1/domains/example.com/rrsets/", r -> {
            posts.incrementAndGet();
            desec.put("_acme-challenge", List.of("\"" + VALUE_B + "\""));
            return FakeApi.Response.json(400, "{\"non_field_errors\":[\"Another RRset with the same subdomain and type exists for this "
                    + "domain. (Try modifying it.)\"]}");
        });
        provider().present(record(VALUE_A));
        assertEquals(1, posts.get());
        assertEquals(List.of(VALUE_B, VALUE_A), desec.values("_acme-challenge"));
    }

    @Test
    void theApexRrsetIsAddressedWithAt() throws Exception {
        provider().present(new TxtRecord("example.com.", VALUE_A, 3600));
        assertEquals(1, api.requests("GET", "/api/v1/domains/example.com/rrsets/@/TXT/").size());
        assertEquals("", api.requests("POST", ".*").get(0).json().get("subname").asString());
    }

    @Test
    void aTtlBelowTheDomainsMinimumIsRaised() throws Exception {
        provider().present(new TxtRecord(name(), VALUE_A, 60));
        assertEquals(3600, api.requests("POST", ".*").get(0).json().get("ttl").asInt());
    }

    @Test
    void aThrottledRequestIsRetriedAfterRetryAfter() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        api.on("GET", "/api/v1/domains/", r -> calls.incrementAndGet() == 1
                ? FakeApi.Response.json(429, "{\"detail\":\"Request was throttled. Expected available in 1 second.\"}")
                        .withHeader("Retry-After", "1")
                : FakeApi.Response.json(200, List.of(Map.of("name", "example.com", "minimum_ttl", 3600))));
        provider().present(record(VALUE_A));
        assertEquals(2, calls.get());
        assertEquals(List.of(VALUE_A), desec.values("_acme-challenge"));
    }

    @Test
    void aRefusedFieldIsNamed() throws Exception {
        api.on("POST", "/api/v1/domains/example.com/rrsets/", r -> FakeApi.Response.json(400,
                "{\"records\":[\"Record content malformed: bad quoting\"]}"));
        assertPresentFails(record(VALUE_A), "records: Record content malformed");
    }

    /** deSEC's domains and RRsets as documented, in memory; one domain, example.com, minimum TTL 3600. */
    static final class FakeDesec {

        private final Map<String, List<String>> rrsets = new LinkedHashMap<>(); // subname -> records

        FakeDesec(FakeApi api, String token) {
            FakeApi.Guarded routes = api.guarded(r -> ("Token " + token).equals(r.header("Authorization")),
                    FakeApi.Response.json(401, "{\"detail\":\"Invalid token.\"}"));
            routes.on("GET", "/api/v1/domains/", r -> {
                String qname = r.param("owns_qname").orElse("");
                List<Object> domains = new ArrayList<>();
                if (qname.equals("example.com") || qname.endsWith(".example.com")) {
                    domains.add(domain());
                }
                return FakeApi.Response.json(200, domains);
            });
            routes.on("GET", "/api/v1/domains/example.com/rrsets/([^/]+)/TXT/", r -> {
                synchronized (this) {
                    String subname = subname(r.group(1));
                    return rrsets.containsKey(subname) ? FakeApi.Response.json(200, rrset(subname)) : notFound();
                }
            });
            routes.on("POST", "/api/v1/domains/example.com/rrsets/", r -> {
                JSON body = r.json();
                String subname = body.get("subname").optional().map(JSON.Value::asString).orElse("");
                if (body.get("ttl").asInt() < 3600) {
                    return FakeApi.Response.json(400, "{\"ttl\":[\"Ensure this value is greater than or equal to 3600.\"]}");
                }
                List<String> records = new ArrayList<>();
                body.get("records").asArray().forEach(v -> records.add(v.asString()));
                if (records.stream().anyMatch(v -> !v.startsWith("\""))) {
                    return FakeApi.Response.json(400, "{\"records\":[\"Record content malformed: unquoted TXT\"]}");
                }
                synchronized (this) {
                    if (rrsets.containsKey(subname)) {
                        return FakeApi.Response.json(400, "{\"non_field_errors\":[\"Another RRset with the same subdomain and type exists "
                                + "for this domain. (Try modifying it.)\"]}");
                    }
                    rrsets.put(subname, records);
                    return FakeApi.Response.json(201, rrset(subname));
                }
            });
            routes.on("PATCH", "/api/v1/domains/example.com/rrsets/([^/]+)/TXT/", r -> {
                synchronized (this) {
                    String subname = subname(r.group(1));
                    if (!rrsets.containsKey(subname)) {
                        return notFound();
                    }
                    List<String> records = new ArrayList<>();
                    r.json().get("records").asArray().forEach(v -> records.add(v.asString()));
                    if (records.isEmpty()) {
                        rrsets.remove(subname);
                        return FakeApi.Response.empty(204);
                    }
                    rrsets.put(subname, records);
                    return FakeApi.Response.json(200, rrset(subname));
                }
            });
        }

        synchronized void put(String subname, List<String> records) {
            rrsets.put(subname, new ArrayList<>(records));
        }

        synchronized List<String> values(String subname) {
            return rrsets.getOrDefault(subname, List.of()).stream().map(v -> v.substring(1, v.length() - 1)).toList();
        }

        private Map<String, Object> rrset(String subname) {
            Map<String, Object> rrset = new LinkedHashMap<>();
            rrset.put("created", "2026-07-01T10:00:00.000000Z");
            rrset.put("domain", "example.com");
            rrset.put("subname", subname);
            rrset.put("name", (subname.isEmpty() ? "" : subname + ".") + "example.com.");
            rrset.put("records", List.copyOf(rrsets.get(subname)));
            rrset.put("ttl", 3600);
            rrset.put("type", "TXT");
            rrset.put("touched", "2026-07-01T10:00:00.000000Z");
            return rrset;
        }

        private static Map<String, Object> domain() {
            return Map.of("created", "2026-01-01T00:00:00.000000Z", "published", "2026-07-01T10:00:00.000000Z", "name", "example.com",
                    "minimum_ttl", 3600, "touched", "2026-07-01T10:00:00.000000Z");
        }

        private static String subname(String inPath) {
            return inPath.equals("@") ? "" : inPath;
        }

        private static FakeApi.Response notFound() {
            return FakeApi.Response.json(404, "{\"detail\":\"Not found.\"}");
        }
    }
}
