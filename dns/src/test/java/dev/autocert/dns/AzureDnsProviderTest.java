package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * Against a fake that plays Microsoft's documented APIs: the identity platform's v2.0 token
 * endpoint (client credentials grant; 401 {@code invalid_client} with an AADSTS description for
 * a wrong secret) and Azure DNS's Resource Manager API 2018-05-01 (zones list with {@code
 * nextLink}; record sets GET, PUT and DELETE with {@code etag}, honouring {@code If-Match} and
 * {@code If-None-Match: *} with 412 {@code PreconditionFailed}; errors as {@code {"error":
 * {"code", "message"}}}).
 */
class AzureDnsProviderTest extends HostedProviderContract {

    private static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    private static final String CLIENT = "00000000-1111-2222-3333-444444444444";
    private static final String SECRET = "Qx8Q~abcdefghijklmnopqrstuvwxyz0123456789";
    private static final String SUBSCRIPTION = "12345678-aaaa-bbbb-cccc-1234567890ab";
    private static final String GROUP = "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/dns";
    private static final String NAME = "_acme-challenge.www.example.com.";

    private String accessToken;
    /** "zone/relative name" → record set: etag, TTL, values. */
    private final Map<String, Map<String, Object>> sets = new LinkedHashMap<>();

    AzureDnsProviderTest() {
        super(new AzureDnsProvider.Factory(), "AZURE_BASE_URL",
                new Registration("azuredns", "AZURE", Duration.ofSeconds(120), Duration.ofSeconds(2), 60));
    }

    @BeforeEach
    void startFake() throws Exception {
        AccessTokens.clear(); // each test's fake hands out its own token, maybe on a port an earlier one had
        accessToken = "eyJ0eXAi." + UUID.randomUUID();
        api.on("POST", "/" + TENANT + "/oauth2/v2.0/token", r -> {
            Map<String, String> form = new HashMap<>();
            for (String pair : r.body().split("&")) {
                form.put(pair.substring(0, pair.indexOf('=')), URLDecoder.decode(pair.substring(pair.indexOf('=') + 1), StandardCharsets.UTF_8));
            }
            if (!"client_credentials".equals(form.get("grant_type")) || !(api.url() + "/.default").equals(form.get("scope"))) {
                return FakeApi.Response.json(400, Map.of("error", "invalid_request", "error_description", "AADSTS900144: bad request"));
            }
            if (!CLIENT.equals(form.get("client_id")) || !SECRET.equals(form.get("client_secret"))) {
                return FakeApi.Response.json(401, Map.of("error", "invalid_client", "error_description", "AADSTS7000215: Invalid client "
                        + "secret provided. Ensure the secret being sent in the request is the client secret value, not the client "
                        + "secret ID, for a secret added to app '" + CLIENT + "'. (got " + form.get("client_secret") + ")\r\n"
                        + "Trace ID: 0a1b\r\nCorrelation ID: 2c3d"));
            }
            return FakeApi.Response.json(200, Map.of("token_type", "Bearer", "expires_in", 3599, "ext_expires_in", 3599,
                    "access_token", accessToken));
        });
        api.on("GET", GROUP + "/providers/Microsoft.Network/dnsZones", r -> {
            authorized(r);
            if (r.param("$skipToken").isEmpty()) {
                return FakeApi.Response.json(200, Map.of("value", List.of(zone("other.org"), zone("example.com")),
                        "nextLink", api.url() + GROUP + "/providers/Microsoft.Network/dnsZones?api-version=2018-05-01&$skipToken=2"));
            }
            return FakeApi.Response.json(200, Map.of("value", List.of(zone("www.example.com.au"))));
        });
        api.on("GET", GROUP + "/providers/Microsoft.Network/dnsZones/([^/]+)/TXT/([^/]+)", r -> {
            authorized(r);
            synchronized (sets) {
                Map<String, Object> set = sets.get(r.group(1) + "/" + r.group(2));
                if (set == null) {
                    return armError(404, "NotFound", "The resource record '" + r.group(2) + "' does not exist in resource group 'dns' "
                            + "of subscription '" + SUBSCRIPTION + "'.");
                }
                return FakeApi.Response.json(200, resource(r.group(1), r.group(2), set));
            }
        });
        api.on("PUT", GROUP + "/providers/Microsoft.Network/dnsZones/([^/]+)/TXT/([^/]+)", r -> {
            authorized(r);
            synchronized (sets) {
                String key = r.group(1) + "/" + r.group(2);
                FakeApi.Response refused = precondition(r, sets.get(key));
                if (refused != null) {
                    return refused;
                }
                boolean created = !sets.containsKey(key);
                JSON properties = r.json().get("properties").asObject();
                Map<String, Object> set = new LinkedHashMap<>();
                set.put("etag", UUID.randomUUID().toString());
                set.put("TTL", properties.get("TTL").asInt());
                List<Object> records = new ArrayList<>();
                properties.get("TXTRecords").asArray().forEach(v -> records.add(v.asObject().toMap()));
                set.put("TXTRecords", records);
                sets.put(key, set);
                return FakeApi.Response.json(created ? 201 : 200, resource(r.group(1), r.group(2), set));
            }
        });
        api.on("DELETE", GROUP + "/providers/Microsoft.Network/dnsZones/([^/]+)/TXT/([^/]+)", r -> {
            authorized(r);
            synchronized (sets) {
                String key = r.group(1) + "/" + r.group(2);
                if (!sets.containsKey(key)) {
                    return FakeApi.Response.empty(204);
                }
                FakeApi.Response refused = precondition(r, sets.get(key));
                if (refused != null) {
                    return refused;
                }
                sets.remove(key);
                return FakeApi.Response.empty(200);
            }
        });
    }

    private static Map<String, Object> zone(String name) {
        return Map.of("id", GROUP + "/providers/Microsoft.Network/dnszones/" + name, "name", name, "type", "Microsoft.Network/dnszones",
                "location", "global", "properties", Map.of("numberOfRecordSets", 2, "zoneType", "Public"));
    }

    private static Map<String, Object> resource(String zone, String name, Map<String, Object> set) {
        return Map.of("id", GROUP + "/providers/Microsoft.Network/dnszones/" + zone + "/TXT/" + name, "name", name,
                "type", "Microsoft.Network/dnszones/TXT", "etag", set.get("etag"),
                "properties", Map.of("TTL", set.get("TTL"), "fqdn", name + "." + zone + ".", "provisioningState", "Succeeded",
                        "TXTRecords", set.get("TXTRecords")));
    }

    private static FakeApi.Response precondition(FakeApi.Request r, Map<String, Object> current) {
        String ifMatch = r.header("If-Match");
        String ifNoneMatch = r.header("If-None-Match");
        if (ifMatch != null && (current == null || !ifMatch.equals(current.get("etag")))
                || "*".equals(ifNoneMatch) && current != null) {
            return armError(412, "PreconditionFailed", "The condition '" + (ifMatch != null ? ifMatch : "*") + "' in the "
                    + (ifMatch != null ? "If-Match" : "If-None-Match") + " header was not satisfied.");
        }
        return null;
    }

    private static FakeApi.Response armError(int status, String code, String message) {
        return FakeApi.Response.json(status, Map.of("error", Map.of("code", code, "message", message)));
    }

    private void authorized(FakeApi.Request r) {
        if (!("Bearer " + accessToken).equals(r.header("Authorization")) || !"2018-05-01".equals(r.param("api-version").orElse(null))) {
            throw new IllegalStateException("unauthorized or without api-version: " + r.path());
        }
    }

    /** {@return the service principal's credentials, at the fake} */
    private Map<String, String> principal() {
        return Map.of("AZURE_BASE_URL", api.url(), "AZURE_AUTHORITY_HOST", api.url(), "AZURE_CLIENT_ID", CLIENT,
                "AZURE_CLIENT_SECRET", SECRET, "AZURE_TENANT_ID", TENANT);
    }

    /** A provider of {@code settings} and, unless they say otherwise, the service principal's credentials. */
    @Override
    DnsProvider provider(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(principal());
        all.putAll(settings);
        return factory().create(DnsCredentials.of("azuredns", all));
    }

    @Override
    Map<String, String> credentials() {
        Map<String, String> all = new HashMap<>(principal());
        all.putAll(Map.of("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION, "AZURE_RESOURCE_GROUP", "dns"));
        return all;
    }

    @Override
    String name() {
        return NAME;
    }

    /** {@return the values of the record set at NAME, or null when there is none} */
    @SuppressWarnings("unchecked")
    private List<String> txtRecords() {
        Map<String, Object> set = sets.get("example.com/_acme-challenge.www");
        if (set == null) {
            return null;
        }
        return ((List<Map<String, Object>>) set.get("TXTRecords")).stream().map(m -> String.join("", (List<String>) m.get("value"))).toList();
    }

    @Override
    List<String> values() {
        List<String> values = txtRecords();
        assertTrue(values == null || !values.isEmpty(), "a record set without records is kept");
        return values == null ? List.of() : values;
    }

    @Override
    int writes() {
        return api.requests("PUT", ".*/TXT/.*").size() + api.requests("DELETE", ".*/TXT/.*").size();
    }

    @Override
    Refusal refusal() {
        String wrong = "Wrong~secret-value-0123456789";
        return new Refusal(provider(Map.of("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION, "AZURE_RESOURCE_GROUP", "dns", "AZURE_CLIENT_SECRET", wrong)),
                List.of("HTTP 401 (invalid_client: AADSTS7000215: Invalid client secret provided."), List.of(wrong, "Trace ID"));
    }

    @Override
    String nameInNoZone() {
        return "_acme-challenge.example.net.";
    }

    @Override
    List<String> noZoneSays() {
        return List.of("zones seen: other.org, example.com, www.example.com.au");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_azure_sp_client_id", "AZURE_CLIENT_ID"),
                new Missing(principal(), "AZURE_SUBSCRIPTION_ID"));
    }

    @Test
    void presentGetsATokenFindsTheZoneAndCreatesTheRecordSetOnlyIfNew() throws Exception {
        provider().present(record(VALUE_A));

        assertEquals(List.of(VALUE_A), txtRecords());
        assertEquals(60, sets.get("example.com/_acme-challenge.www").get("TTL"));
        FakeApi.Request put = api.requests("PUT", ".*/TXT/.*").get(0);
        assertEquals("*", put.header("If-None-Match"));
        assertNull(put.header("If-Match"));
        assertEquals(2, api.requests("GET", ".*/dnsZones").size(), "both pages of zones");
        assertTrue(api.failures().isEmpty(), api.failures().toString());
        assertTrue(api.unrouted().isEmpty(), api.unrouted().toString());
    }

    @Test
    void aTokenIsKeptForItsSecretOnly() throws Exception {
        provider().present(record(VALUE_A));
        Map<String, String> rotated = new HashMap<>(credentials());
        rotated.put("AZURE_CLIENT_SECRET", "Rotated~secret-value-0123456789");

        // the token got with the old secret is not handed to a provider with another one
        AutocertException e = assertThrows(AutocertException.class, () -> provider(rotated).present(record(VALUE_B)));
        assertTrue(e.getMessage().contains("invalid_client"), e.getMessage());
        assertEquals(2, api.requests("POST", ".*/token").size());
    }

    @Test
    void eachChangeIsConditionalOnTheEtagItReadAndTheTokenIsKept() throws Exception {
        DnsProvider azure = provider();
        azure.present(record(VALUE_A));
        String etag = (String) sets.get("example.com/_acme-challenge.www").get("etag");
        azure.present(record(VALUE_B));
        assertEquals(etag, api.requests("PUT", ".*/TXT/.*").get(1).header("If-Match"));

        azure.cleanUp(record(VALUE_A));
        azure.cleanUp(record(VALUE_B));
        assertNull(txtRecords());
        assertEquals(1, api.requests("DELETE", ".*/TXT/.*").size());
        assertTrue(api.requests("DELETE", ".*/TXT/.*").get(0).header("If-Match") != null);
        assertEquals(1, api.requests("POST", ".*/token").size(), "the access token is kept");
        assertTrue(api.failures().isEmpty(), api.failures().toString());
    }

    @Test
    void aChangeMadeMeanwhileIsReadAndMadeAgain() throws Exception {
        provider().present(record(VALUE_A));
        AtomicBoolean raced = new AtomicBoolean();
        api.on("GET", GROUP + "/providers/Microsoft.Network/dnsZones/([^/]+)/TXT/([^/]+)", r -> {
            synchronized (sets) {
                Map<String, Object> set = sets.get(r.group(1) + "/" + r.group(2));
                FakeApi.Response answer = FakeApi.Response.json(200, resource(r.group(1), r.group(2), set));
                if (raced.compareAndSet(false, true)) {
                    // another client changes the set right after our read
                    Map<String, Object> theirs = new LinkedHashMap<>(set);
                    List<Object> records = new ArrayList<>((List<?>) set.get("TXTRecords"));
                    records.add(Map.of("value", List.of("their-value")));
                    theirs.put("TXTRecords", records);
                    theirs.put("etag", UUID.randomUUID().toString());
                    sets.put(r.group(1) + "/" + r.group(2), theirs);
                }
                return answer;
            }
        });

        provider().present(record(VALUE_B));

        assertEquals(List.of(VALUE_A, "their-value", VALUE_B), txtRecords());
    }

    @Test
    void certbotDnsAzureZoneMappingsAreUsed() throws Exception {
        api.clearRequests();
        provider(Map.of("dns_azure_zone1", "example.org:" + GROUP, "dns_azure_zone2", "example.com:" + GROUP)).present(record(VALUE_A));
        assertEquals(List.of(VALUE_A), txtRecords());
        assertTrue(api.requests("GET", ".*/dnsZones").isEmpty(), "no zone lookup with a mapping");
    }

    @Test
    void aResourceManagerErrorIsNamed() throws Exception {
        api.on("PUT", GROUP + "/providers/Microsoft.Network/dnsZones/([^/]+)/TXT/([^/]+)", r -> armError(403, "AuthorizationFailed",
                "The client '" + CLIENT + "' does not have authorization to perform action "
                        + "'Microsoft.Network/dnszones/TXT/write' over scope '" + GROUP + "'"));
        AutocertException e = assertPresentFails(record(VALUE_A), "HTTP 403 (AuthorizationFailed: The client");
        assertFalse(e.getMessage().contains(SECRET));
    }

}
