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
 * {@link LinodeProvider} against a fake of Linode's API v4 as documented: {@code GET /domains}
 * with an {@code X-Filter} header, {@code /domains/{id}/records} paged with {@code page} and
 * {@code page_size} (25 to 500) and answering {@code page}/{@code pages}/{@code results}, and
 * errors as {@code {"errors":[{"reason":…}]}}.
 */
class LinodeProviderTest extends HostedProviderContract {

    private static final String TOKEN = "lin-9e8d7c6b5a4f";

    private FakeLinode linode;

    LinodeProviderTest() {
        super(new LinodeProvider.Factory(), "LINODE_BASE_URL",
                new Registration("linode", "LINODE", Duration.ofSeconds(120), Duration.ofSeconds(15), 300));
    }

    @BeforeEach
    void start() {
        linode = new FakeLinode(api, TOKEN);
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("dns_linode_key", TOKEN, "LINODE_BASE_URL", api.url() + "/v4");
    }

    @Override
    List<String> values() {
        return linode.values("_acme-challenge");
    }

    @Override
    int writes() {
        return api.requests("POST", ".*/records").size() + api.requests("DELETE", ".*/records/.*").size();
    }

    @Override
    Refusal refusal() throws Exception {
        new FakeLinode(api, "another-token");
        return new Refusal(provider(), List.of("401", "Invalid Token"), List.of(TOKEN));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("tried _acme-challenge.example.org, example.org");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_linode_key", "LINODE_TOKEN"));
    }

    @Test
    void presentThenCleanUpSendsTheDocumentedRequestsWithTheToken() throws Exception {
        DnsProvider provider = provider();
        provider.present(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 300));

        assertEquals(List.of("_acme-challenge.www.example.com", "www.example.com", "example.com"), api.requests("GET", "/v4/domains")
                .stream().map(r -> r.header("X-Filter")).map(f -> JSON.parse(f).get("domain").asString()).toList());
        JSON body = api.requests("POST", "/v4/domains/1234/records").get(0).json();
        assertEquals("TXT", body.get("type").asString());
        assertEquals("_acme-challenge.www", body.get("name").asString());
        assertEquals(VALUE_A, body.get("target").asString());
        assertEquals(300, body.get("ttl_sec").asInt());

        provider.cleanUp(new TxtRecord("_acme-challenge.www.example.com.", VALUE_A, 300));
        assertEquals(1, api.requests("DELETE", "/v4/domains/1234/records/[0-9]+").size());
        assertEquals(List.of(), linode.values("_acme-challenge.www"));
        assertEveryRequestCarries("Authorization", "Bearer " + TOKEN);
    }

    @Test
    void aRecordAtTheDomainItselfHasAnEmptyName() throws Exception {
        provider().present(new TxtRecord("example.com.", VALUE_A, 300));
        assertEquals("", api.requests("POST", ".*/records").get(0).json().get("name").asString());
    }

    @Test
    void followsEveryPageOfTheRecordList() throws Exception {
        for (int i = 0; i < 1050; i++) {
            linode.add(i % 2 == 0 ? "www" : "_acme-challenge", "other-" + i);
        }
        linode.add("_acme-challenge", VALUE_A);

        assertTheThirdPageIsRead(".*/records");
        assertEquals(525, linode.values("_acme-challenge").size());
    }

    @Test
    void aRefusedFieldIsNamed() throws Exception {
        api.on("POST", "/v4/domains/1234/records", r -> FakeApi.Response.json(400,
                "{\"errors\":[{\"reason\":\"Target must be 65535 characters or fewer\",\"field\":\"target\"}]}"));
        assertPresentFails(record(VALUE_A), "target: Target must be");
    }

    /** Linode's domains and domain records as documented, in memory; one domain, example.com (id 1234). */
    static final class FakeLinode {

        private final Map<Long, Map<String, Object>> records = new LinkedHashMap<>();
        private long nextId = 28503;

        FakeLinode(FakeApi api, String token) {
            FakeApi.Guarded routes = api.guarded(r -> ("Bearer " + token).equals(r.header("Authorization")),
                    FakeApi.Response.json(401, "{\"errors\":[{\"reason\":\"Invalid Token\"}]}"));
            routes.on("GET", "/v4/domains", r -> {
                String wanted = r.header("X-Filter") == null ? null : JSON.parse(r.header("X-Filter")).get("domain").asString();
                List<Object> data = new ArrayList<>();
                if (wanted == null || wanted.equals("example.com")) {
                    data.add(Map.of("id", 1234, "domain", "example.com", "type", "master", "status", "active", "soa_email",
                            "admin@example.com"));
                }
                return FakeApi.Response.json(200, Map.of("data", data, "page", 1, "pages", 1, "results", data.size()));
            });
            routes.on("GET", "/v4/domains/1234/records", r -> {
                int page = r.intParam("page", 1);
                int size = r.intParam("page_size", 100);
                if (size < 25 || size > 500) {
                    return FakeApi.Response.json(400, "{\"errors\":[{\"reason\":\"page_size must be between 25 and 500\"}]}");
                }
                synchronized (this) {
                    List<Object> all = new ArrayList<>(records.values());
                    int from = Math.min((page - 1) * size, all.size());
                    int pages = Math.max(1, (all.size() + size - 1) / size);
                    return FakeApi.Response.json(200, Map.of("data", all.subList(from, Math.min(from + size, all.size())), "page", page,
                            "pages", pages, "results", all.size()));
                }
            });
            routes.on("POST", "/v4/domains/1234/records", r -> {
                JSON body = r.json();
                synchronized (this) {
                    return FakeApi.Response.json(200, put(body.get("name").asString(), body.get("target").asString()));
                }
            });
            routes.on("DELETE", "/v4/domains/1234/records/([0-9]+)", r -> {
                synchronized (this) {
                    return records.remove(Long.parseLong(r.group(1))) == null
                            ? FakeApi.Response.json(404, "{\"errors\":[{\"reason\":\"Not found\"}]}")
                            : FakeApi.Response.json(200, "{}");
                }
            });
        }

        synchronized void add(String name, String target) {
            put(name, target);
        }

        synchronized List<String> values(String name) {
            return records.values().stream().filter(r -> r.get("name").equals(name)).map(r -> (String) r.get("target")).toList();
        }

        private Map<String, Object> put(String name, String target) {
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("id", nextId++);
            record.put("type", "TXT");
            record.put("name", name);
            record.put("target", target);
            record.put("priority", 0);
            record.put("weight", 0);
            record.put("port", 0);
            record.put("service", null);
            record.put("protocol", null);
            record.put("ttl_sec", 300);
            record.put("tag", null);
            record.put("created", "2026-07-01T10:00:00");
            record.put("updated", "2026-07-01T10:00:00");
            records.put((Long) record.get("id"), record);
            return record;
        }
    }
}
