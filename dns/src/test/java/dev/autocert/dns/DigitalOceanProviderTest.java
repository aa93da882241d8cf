package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * {@link DigitalOceanProvider} against a fake of DigitalOcean's API v2 as documented: {@code
 * /v2/domains/{name}}, {@code /v2/domains/{name}/records} filtered by {@code type} and the fully
 * qualified {@code name}, paged with {@code page}/{@code per_page} and {@code links.pages.next},
 * errors as {@code {"id":…,"message":…}}.
 */
class DigitalOceanProviderTest extends HostedProviderContract {

    private static final String TOKEN = "dop_v1_4c2f0e9b7a";

    private FakeDigitalOcean digitalOcean;

    DigitalOceanProviderTest() {
        super(new DigitalOceanProvider.Factory(), "DO_API_URL",
                new Registration("digitalocean", "DO", Duration.ofSeconds(60), Duration.ofSeconds(5), 30));
    }

    @BeforeEach
    void start() {
        digitalOcean = new FakeDigitalOcean(api, TOKEN);
        digitalOcean.domains.add("example.com");
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("dns_digitalocean_token", TOKEN, "DO_API_URL", api.url() + "/");
    }

    @Override
    List<String> values() {
        return digitalOcean.values("_acme-challenge");
    }

    @Override
    int writes() {
        return api.requests("POST", ".*/records").size() + api.requests("DELETE", ".*/records/.*").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakeDigitalOcean(api, "another-token").domains.add("example.com");
        return new Refusal(provider(), List.of("401", "unauthorized: Unable to authenticate you"), List.of(TOKEN));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("_acme-challenge.example.org, example.org");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_digitalocean_token", "DO_AUTH_TOKEN"));
    }

    @Test
    void presentThenCleanUpSendsTheDocumentedRequestsWithTheToken() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 30));

        assertEquals(List.of("/v2/domains/_acme-challenge.www.example.com", "/v2/domains/www.example.com", "/v2/domains/example.com"),
                api.requests("GET", "/v2/domains/[^/]+").stream().map(FakeApi.Request::path).toList());
        FakeApi.Request list = api.requests("GET", "/v2/domains/example.com/records").get(0);
        assertEquals("TXT", list.param("type").orElseThrow());
        assertEquals("_acme-challenge.www.example.com", list.param("name").orElseThrow());
        JSON body = api.requests("POST", "/v2/domains/example.com/records").get(0).json();
        assertEquals("TXT", body.get("type").asString());
        assertEquals("_acme-challenge.www", body.get("name").asString());
        assertEquals(VALUE_A, body.get("data").asString());
        assertEquals(30, body.get("ttl").asInt());

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 30));
        assertEquals(1, api.requests("DELETE", "/v2/domains/example.com/records/[0-9]+").size());
        assertTrue(digitalOcean.values("_acme-challenge.www").isEmpty());
        assertEveryRequestCarries("Authorization", "Bearer " + TOKEN);
    }

    @Test
    void aRecordAtTheDomainItselfIsNamedAt() throws Exception {
        digitalOcean.domains.add("acme.example.net");
        provider().present(new TxtRecord("acme.example.net.", VALUE_A, 30));
        assertEquals("@", api.requests("POST", ".*/records").get(0).json().get("name").asString());
        assertEquals(List.of(VALUE_A), digitalOcean.values("@"));
    }

    @Test
    void followsEveryPageOfTheRecordList() throws Exception {
        for (int i = 0; i < 450; i++) {
            digitalOcean.add("_acme-challenge", "other-" + i);
        }
        digitalOcean.add("_acme-challenge", VALUE_A);

        assertTheThirdPageIsRead(".*/records");
        assertEquals(450, digitalOcean.values("_acme-challenge").size());
    }

    /** DigitalOcean's domains and domain records API as documented, in memory. */
    static final class FakeDigitalOcean {

        final Set<String> domains = java.util.Collections.synchronizedSet(new LinkedHashSet<>());
        private final Map<Long, Map<String, Object>> records = new LinkedHashMap<>();
        private long nextId = 3352892;

        FakeDigitalOcean(FakeApi api, String token) {
            FakeApi.Guarded routes = api.guarded(r -> ("Bearer " + token).equals(r.header("Authorization")),
                    FakeApi.Response.json(401, "{\"id\":\"unauthorized\",\"message\":\"Unable to authenticate you\"}"));
            routes.on("GET", "/v2/domains/([^/]+)", r -> {
                if (!domains.contains(r.group(1))) {
                    return notFound();
                }
                return FakeApi.Response.json(200, Map.of("domain", Map.of("name", r.group(1), "ttl", 1800, "zone_file", "")));
            });
            routes.on("GET", "/v2/domains/([^/]+)/records", r -> {
                String domain = r.group(1);
                List<Object> matching = new ArrayList<>();
                synchronized (this) {
                    for (Map<String, Object> record : records.values()) {
                        String fqdn = record.get("name").equals("@") ? domain : record.get("name") + "." + domain;
                        if (record.get("domain").equals(domain) && r.param("type").map(record.get("type")::equals).orElse(true)
                                && r.param("name").map(fqdn::equals).orElse(true)) {
                            matching.add(withoutDomain(record));
                        }
                    }
                }
                int page = r.intParam("page", 1);
                int perPage = r.intParam("per_page", 20);
                int from = Math.min((page - 1) * perPage, matching.size());
                int last = Math.max(1, (matching.size() + perPage - 1) / perPage);
                Map<String, Object> pages = new LinkedHashMap<>();
                String link = "https://api.digitalocean.com/v2/domains/" + domain + "/records?page=";
                if (page > 1) {
                    pages.put("first", link + 1);
                    pages.put("prev", link + (page - 1));
                }
                if (page < last) {
                    pages.put("next", link + (page + 1));
                    pages.put("last", link + last);
                }
                return FakeApi.Response.json(200, Map.of("domain_records", matching.subList(from, Math.min(from + perPage, matching.size())),
                        "links", Map.of("pages", pages), "meta", Map.of("total", matching.size())));
            });
            routes.on("POST", "/v2/domains/([^/]+)/records", r -> {
                JSON body = r.json();
                synchronized (this) {
                    Map<String, Object> record = put(r.group(1), body.get("name").asString(), body.get("data").asString(),
                            body.get("ttl").asInt());
                    return FakeApi.Response.json(201, Map.of("domain_record", withoutDomain(record)));
                }
            });
            routes.on("DELETE", "/v2/domains/([^/]+)/records/([0-9]+)", r -> {
                synchronized (this) {
                    return records.remove(Long.parseLong(r.group(2))) == null ? notFound() : FakeApi.Response.empty(204);
                }
            });
        }

        synchronized void add(String name, String data) {
            put("example.com", name, data, 30);
        }

        synchronized List<String> values(String name) {
            return records.values().stream().filter(r -> r.get("name").equals(name)).map(r -> (String) r.get("data")).toList();
        }

        private Map<String, Object> put(String domain, String name, String data, int ttl) {
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("id", nextId++);
            record.put("type", "TXT");
            record.put("name", name);
            record.put("data", data);
            record.put("priority", null);
            record.put("port", null);
            record.put("ttl", ttl);
            record.put("weight", null);
            record.put("flags", null);
            record.put("tag", null);
            record.put("domain", domain);
            records.put((Long) record.get("id"), record);
            return record;
        }

        private static Map<String, Object> withoutDomain(Map<String, Object> record) {
            Map<String, Object> copy = new LinkedHashMap<>(record);
            copy.remove("domain");
            return copy;
        }

        private static FakeApi.Response notFound() {
            return FakeApi.Response.json(404, "{\"id\":\"not_found\",\"message\":\"The resource you were accessing could not be found.\"}");
        }
    }
}
