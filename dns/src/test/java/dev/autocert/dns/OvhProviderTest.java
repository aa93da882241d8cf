package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.InvalidSettingException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Against a fake that plays OVHcloud's documented API v1: {@code GET /auth/time} (the fake's clock
 * runs 1000 s ahead, so a timestamp not taken from it is refused as "Query out of time"),
 * signature checks ({@code $1$} SHA-1 over secret, consumer key, method, full URL, body and
 * timestamp), {@code /domain/zone}, records listed as bare arrays of ids, created, fetched,
 * deleted, and a zone that serves nothing new until {@code refresh}; errors as {@code {"class",
 * "message"}}.
 */
class OvhProviderTest extends HostedProviderContract {

    private static final String AK = "7kbG7Bk7S9Nt7ZSV";
    private static final String AS = "EXEEWd9ppqdwthQoAL7RaQhTC4gkBYtW";
    private static final String CK = "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1";
    private static final String NAME = "_acme-challenge.www.example.com.";
    private static final long AHEAD = 1000;

    /** id → record: subDomain, target, ttl. */
    private final Map<Long, Map<String, Object>> records = new LinkedHashMap<>();
    private final AtomicLong ids = new AtomicLong(5_000_000_000L); // OVH's ids exceed an int
    private final AtomicInteger refreshes = new AtomicInteger();
    private final AtomicInteger changesSinceRefresh = new AtomicInteger();

    OvhProviderTest() {
        super(new OvhProvider.Factory(), "OVH_ENDPOINT",
                new Registration("ovh", "OVH", Duration.ofSeconds(60), Duration.ofSeconds(2), 120));
    }

    @BeforeEach
    void startFake() throws Exception {
        api.on("GET", "/1.0/auth/time", r -> FakeApi.Response.json(200, Long.toString(now())));
        api.on("GET", "/1.0/domain/zone", r -> signed(r, () -> FakeApi.Response.json(200, List.of("example.com", "example.org"))));
        api.on("GET", "/1.0/domain/zone/example.com/record", r -> signed(r, () -> {
            synchronized (records) {
                return FakeApi.Response.json(200, records.entrySet().stream()
                        .filter(e -> r.param("fieldType").map("TXT"::equals).orElse(true)
                                && r.param("subDomain").map(e.getValue().get("subDomain")::equals).orElse(true))
                        .map(Map.Entry::getKey).toList());
            }
        }));
        api.on("GET", "/1.0/domain/zone/example.com/record/([0-9]+)", r -> signed(r, () -> {
            synchronized (records) {
                Map<String, Object> record = records.get(Long.parseLong(r.group(1)));
                return record == null ? ovhError(404, "Client::NotFound", "The requested object (id = " + r.group(1) + ") does not exist")
                        : FakeApi.Response.json(200, record);
            }
        }));
        api.on("POST", "/1.0/domain/zone/example.com/record", r -> signed(r, () -> {
            long id = ids.incrementAndGet();
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("id", id);
            record.put("zone", "example.com");
            record.put("fieldType", r.json().get("fieldType").asString());
            record.put("subDomain", r.json().get("subDomain").asString());
            record.put("target", r.json().get("target").asString());
            record.put("ttl", r.json().get("ttl").asInt());
            synchronized (records) {
                records.put(id, record);
            }
            changesSinceRefresh.incrementAndGet();
            return FakeApi.Response.json(200, record);
        }));
        api.on("DELETE", "/1.0/domain/zone/example.com/record/([0-9]+)", r -> signed(r, () -> {
            synchronized (records) {
                if (records.remove(Long.parseLong(r.group(1))) == null) {
                    return ovhError(404, "Client::NotFound", "The requested object (id = " + r.group(1) + ") does not exist");
                }
            }
            changesSinceRefresh.incrementAndGet();
            return FakeApi.Response.json(200, "null");
        }));
        api.on("POST", "/1.0/domain/zone/example.com/refresh", r -> signed(r, () -> {
            refreshes.incrementAndGet();
            changesSinceRefresh.set(0);
            return FakeApi.Response.json(200, "null");
        }));
    }

    private static long now() {
        return Instant.now().getEpochSecond() + AHEAD;
    }

    private interface Answer {
        FakeApi.Response get() throws Exception;
    }

    /** OVH's checks of a signed call, then the answer. */
    private FakeApi.Response signed(FakeApi.Request r, Answer answer) throws Exception {
        if (!AK.equals(r.header("X-Ovh-Application"))) {
            return ovhError(403, "Client::Forbidden", "Invalid application key");
        }
        if (!CK.equals(r.header("X-Ovh-Consumer"))) {
            return ovhError(403, "Client::Forbidden", "Invalid credential " + r.header("X-Ovh-Consumer"));
        }
        long timestamp = Long.parseLong(r.header("X-Ovh-Timestamp"));
        if (Math.abs(timestamp - now()) > 10) {
            return ovhError(400, "Client::BadRequest", "Query out of time");
        }
        String url = api.url() + r.path() + (r.query() != null ? "?" + r.query() : "");
        String expected = "$1$" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest((AS + "+" + CK + "+" + r.method()
                + "+" + url + "+" + r.body() + "+" + timestamp).getBytes(StandardCharsets.UTF_8)));
        if (!expected.equals(r.header("X-Ovh-Signature"))) {
            return ovhError(400, "Client::BadRequest", "Invalid signature");
        }
        return answer.get();
    }

    private static FakeApi.Response ovhError(int status, String errorClass, String message) {
        return FakeApi.Response.json(status, Map.of("class", errorClass, "message", message)).withHeader("X-Ovh-QueryID", "EU.ext-1.abc");
    }

    /** A provider of {@code settings} and, unless they say otherwise, the application's keys at the fake. */
    @Override
    DnsProvider provider(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(credentials());
        all.putAll(settings);
        return factory().create(DnsCredentials.of("ovh", all));
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("OVH_ENDPOINT", api.url() + "/1.0", "OVH_APPLICATION_KEY", AK, "OVH_APPLICATION_SECRET", AS, "OVH_CONSUMER_KEY", CK);
    }

    @Override
    String name() {
        return NAME;
    }

    /** {@return the targets of every record, as OVH keeps them} */
    private List<String> targets() {
        synchronized (records) {
            return records.values().stream().map(r -> (String) r.get("target")).toList();
        }
    }

    @Override
    List<String> values() {
        return targets();
    }

    @Override
    int writes() {
        return api.requests("POST", "/1.0/domain/zone/example.com/record").size()
                + api.requests("DELETE", "/1.0/domain/zone/example.com/record/.*").size();
    }

    @Override
    Refusal refusal() {
        api.on("POST", "/1.0/domain/zone/example.com/record", r -> ovhError(403, "Client::Forbidden",
                "This call has not been granted (consumer " + CK + ")"));
        return new Refusal(provider(Map.of()), List.of("HTTP 403 (Client::Forbidden: This call has not been granted"), List.of(CK, AS));
    }

    @Override
    String nameInNoZone() {
        return "_acme-challenge.example.net.";
    }

    @Override
    List<String> noZoneSays() {
        return List.of("its zones: example.com, example.org");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of(), "dns_ovh_application_key", "OVH_APPLICATION_KEY"));
    }

    @Test
    void presentCreatesTheRecordSignedWithTheApisClockAndAppliesTheZone() throws Exception {
        provider().present(record(VALUE_A));

        FakeApi.Request create = api.requests("POST", "/1.0/domain/zone/example.com/record").get(0);
        assertEquals("TXT", create.json().get("fieldType").asString());
        assertEquals("_acme-challenge.www", create.json().get("subDomain").asString());
        assertEquals(VALUE_A, create.json().get("target").asString());
        assertEquals(120, create.json().get("ttl").asInt());
        assertEquals(1, refreshes.get());
        assertEquals(0, changesSinceRefresh.get());
        assertTrue(api.failures().isEmpty(), api.failures().toString());
        assertTrue(api.unrouted().isEmpty(), api.unrouted().toString());
    }

    @Test
    void theZoneIsAppliedAfterEachChangeAndOnlyThen() throws Exception {
        DnsProvider ovh = provider();
        ovh.present(record(VALUE_A));
        ovh.present(record(VALUE_B));
        ovh.present(record(VALUE_B));
        assertEquals(2, refreshes.get());
        ovh.cleanUp(record(VALUE_A));
        ovh.cleanUp(record(VALUE_B));
        ovh.cleanUp(record(VALUE_B));
        assertEquals(4, refreshes.get());
        assertEquals(0, changesSinceRefresh.get());
    }

    @Test
    void aValueStoredQuotedCountsAsPresent() throws Exception {
        synchronized (records) {
            records.put(42L, new LinkedHashMap<>(Map.of("id", 42L, "zone", "example.com", "fieldType", "TXT",
                    "subDomain", "_acme-challenge.www", "target", "\"" + VALUE_A + "\"", "ttl", 60)));
        }
        provider().present(record(VALUE_A));
        assertTrue(api.requests("POST", "/1.0/domain/zone/example.com/record").isEmpty());
        provider().cleanUp(record(VALUE_A));
        assertEquals(List.of(), targets());
    }

    @Test
    void aWrongSecretIsRefusedAsAnInvalidSignature() {
        AutocertException e = assertThrows(AutocertException.class,
                () -> provider(Map.of("OVH_APPLICATION_SECRET", "not-the-secret-0123")).present(record(VALUE_A)));
        assertTrue(e.getMessage().contains("HTTP 400 (Client::BadRequest: Invalid signature)"), e.getMessage());
        assertFalse(e.getMessage().contains("not-the-secret-0123"), e.getMessage());
    }

    @Test
    void certbotsIniKeysWork() throws Exception {
        new OvhProvider.Factory().create(DnsCredentials.of("ovh", Map.of("dns_ovh_endpoint", api.url() + "/1.0",
                "dns_ovh_application_key", AK, "dns_ovh_application_secret", AS, "dns_ovh_consumer_key", CK))).present(record(VALUE_A));
        assertEquals(List.of(VALUE_A), targets());
    }

    @Test
    void endpointsAreNamedAsOvhsClientsNameThem() {
        assertTrue(provider(Map.of("OVH_ENDPOINT", "ovh-ca")).toString().contains("https://api.ca.ovhcloud.com/1.0"));
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> provider(Map.of("OVH_ENDPOINT", "ovh-mars")));
        assertTrue(e.getMessage().contains("ovh-eu"), e.getMessage());
    }

}
