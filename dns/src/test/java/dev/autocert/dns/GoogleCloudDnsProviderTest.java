package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.InvalidSettingException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * Against a fake that plays Google's documented APIs: the OAuth 2.0 token endpoint of "Using
 * OAuth 2.0 for Server to Server Applications" (checks the JWT's RS256 signature with the
 * account's public key, its claims and grant type; 400 {@code invalid_grant} otherwise) and
 * Cloud DNS v1 (managedZones list by dnsName, rrsets list by name and type, changes.create
 * whose deletions must match the record set exactly, else 412 {@code conditionNotMet}, and
 * changes.get), errors in Google's {@code {"error": {"code", "message", "errors": [{"reason"}]}}}
 * form.
 */
class GoogleCloudDnsProviderTest extends HostedProviderContract {

    private static final String NAME = "_acme-challenge.example.com.";
    private static final String EMAIL = "autocert@my-project.iam.gserviceaccount.com";
    private static KeyPair keys;

    @TempDir
    Path dir;

    private String accessToken;
    /** name → record set, as Cloud DNS keeps it in the zone "example-zone". */
    private final Map<String, Map<String, Object>> rrsets = new LinkedHashMap<>();
    private final AtomicInteger changeIds = new AtomicInteger();

    @BeforeAll
    static void makeKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        keys = generator.generateKeyPair();
    }

    GoogleCloudDnsProviderTest() {
        super(new GoogleCloudDnsProvider.Factory(), "GCE_BASE_URL",
                new Registration("gcloud", "GCE", Duration.ofSeconds(180), Duration.ofSeconds(5), 120));
    }

    @BeforeEach
    void startFake() throws Exception {
        AccessTokens.clear(); // each test's fake hands out its own token, maybe on a port an earlier one had
        accessToken = "ya29." + UUID.randomUUID();
        api.on("POST", "/token", r -> {
            Map<String, String> form = new HashMap<>();
            for (String pair : r.body().split("&")) {
                form.put(pair.substring(0, pair.indexOf('=')), URLDecoder.decode(pair.substring(pair.indexOf('=') + 1), StandardCharsets.UTF_8));
            }
            if (!"urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type"))) {
                return FakeApi.Response.json(400, "{\"error\":\"unsupported_grant_type\",\"error_description\":\"Invalid grant_type\"}");
            }
            String[] jwt = form.get("assertion").split("\\.");
            Signature rs256 = Signature.getInstance("SHA256withRSA");
            rs256.initVerify(keys.getPublic());
            rs256.update((jwt[0] + "." + jwt[1]).getBytes(StandardCharsets.US_ASCII));
            JSON header = JSON.parse(new String(Base64.getUrlDecoder().decode(jwt[0]), StandardCharsets.UTF_8));
            JSON claims = JSON.parse(new String(Base64.getUrlDecoder().decode(jwt[1]), StandardCharsets.UTF_8));
            long iat = Long.parseLong(claims.get("iat").asString());
            long exp = Long.parseLong(claims.get("exp").asString());
            if (!rs256.verify(Base64.getUrlDecoder().decode(jwt[2])) || !header.get("alg").asString().equals("RS256")
                    || !claims.get("iss").asString().equals(EMAIL) || !claims.get("aud").asString().equals(api.url() + "/token")
                    || !claims.get("scope").asString().equals(GoogleCloudDnsProvider.SCOPE) || exp - iat > 3600
                    || Math.abs(iat - Instant.now().getEpochSecond()) > 60) {
                return FakeApi.Response.json(400, "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}");
            }
            return FakeApi.Response.json(200, Map.of("access_token", accessToken, "expires_in", 3599, "token_type", "Bearer"));
        });
        api.on("GET", "/dns/v1/projects/my-project/managedZones", r -> {
            authorized(r);
            List<Object> zones = new ArrayList<>();
            if (r.param("dnsName").orElse("").equals("example.com.")) {
                zones.add(Map.of("kind", "dns#managedZone", "name", "example-private", "dnsName", "example.com.", "id", "11",
                        "visibility", "private"));
                zones.add(Map.of("kind", "dns#managedZone", "name", "example-zone", "dnsName", "example.com.", "id", "12",
                        "visibility", "public"));
            }
            return FakeApi.Response.json(200, Map.of("kind", "dns#managedZonesListResponse", "managedZones", zones));
        });
        api.on("GET", "/dns/v1/projects/my-project/managedZones/example-zone/rrsets", r -> {
            authorized(r);
            List<Object> found = new ArrayList<>();
            synchronized (rrsets) {
                Map<String, Object> set = rrsets.get(r.param("name").orElse(""));
                if (set != null && r.param("type").orElse("TXT").equals("TXT")) {
                    found.add(set);
                }
            }
            return FakeApi.Response.json(200, Map.of("kind", "dns#resourceRecordSetsListResponse", "rrsets", found));
        });
        api.on("POST", "/dns/v1/projects/my-project/managedZones/example-zone/changes", r -> {
            authorized(r);
            JSON change = r.json();
            synchronized (rrsets) {
                if (change.get("deletions").isPresent()) {
                    for (JSON.Value d : change.get("deletions").asArray()) {
                        Map<String, Object> deletion = d.asObject().toMap();
                        if (!normal(deletion).equals(normal(rrsets.get((String) deletion.get("name"))))) {
                            return googleError(412, "conditionNotMet", "Precondition not met for 'entity.change.deletions[0]'");
                        }
                    }
                }
                if (change.get("additions").isPresent()) {
                    for (JSON.Value a : change.get("additions").asArray()) {
                        String name = a.asObject().get("name").asString();
                        if (rrsets.containsKey(name) && !change.get("deletions").isPresent()) {
                            return googleError(409, "alreadyExists", "The resource 'entity.change.additions[0]' named '" + name
                                    + " (TXT)' already exists");
                        }
                    }
                }
                if (change.get("deletions").isPresent()) {
                    change.get("deletions").asArray().forEach(d -> rrsets.remove(d.asObject().get("name").asString()));
                }
                if (change.get("additions").isPresent()) {
                    for (JSON.Value a : change.get("additions").asArray()) {
                        Map<String, Object> set = new LinkedHashMap<>(a.asObject().toMap());
                        set.put("kind", "dns#resourceRecordSet");
                        rrsets.put((String) set.get("name"), set);
                    }
                }
            }
            return FakeApi.Response.json(200, Map.of("kind", "dns#change", "id", String.valueOf(changeIds.incrementAndGet()),
                    "status", "pending", "startTime", "2026-01-01T00:00:00.000Z"));
        });
        api.on("GET", "/dns/v1/projects/my-project/managedZones/example-zone/changes/([0-9]+)", r -> {
            authorized(r);
            return FakeApi.Response.json(200, Map.of("kind", "dns#change", "id", r.group(1), "status", "done"));
        });
        keyFile(); // the key credentials() names
    }

    /** The record set as compared: name, type, ttl and values. */
    private static String normal(Map<String, Object> set) {
        return set == null ? "none" : set.get("name") + " " + set.get("type") + " " + set.get("ttl") + " " + set.get("rrdatas");
    }

    private void authorized(FakeApi.Request r) {
        if (!("Bearer " + accessToken).equals(r.header("Authorization"))) {
            throw new IllegalStateException("not authorized: " + r.header("Authorization"));
        }
    }

    private static FakeApi.Response googleError(int code, String reason, String message) {
        return FakeApi.Response.json(code, Map.of("error", Map.of("code", code, "message", message,
                "errors", List.of(Map.of("domain", "global", "reason", reason, "message", message)))));
    }

    private Path keyFile() throws Exception {
        String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("type", "service_account");
        key.put("project_id", "my-project");
        key.put("private_key_id", "0123456789abcdef");
        key.put("private_key", pem);
        key.put("client_email", EMAIL);
        key.put("client_id", "1234567890");
        key.put("token_uri", api.url() + "/token");
        Path file = dir.resolve("sa.json");
        Files.writeString(file, FakeApi.toJson(key));
        return file;
    }

    /** A provider of {@code settings} and, unless they say otherwise, the fake's base URL, polling changes quickly. */
    @Override
    GoogleCloudDnsProvider provider(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(Map.of("GCE_BASE_URL", api.url()));
        all.putAll(settings);
        return new GoogleCloudDnsProvider.Factory().create(DnsCredentials.of("gcloud", all), Duration.ofMillis(10), Duration.ofSeconds(5));
    }

    @Override
    Map<String, String> credentials() {
        return Map.of("GCE_BASE_URL", api.url(), "GCE_SERVICE_ACCOUNT_FILE", dir.resolve("sa.json").toString());
    }

    /** {@return the record set's values as Cloud DNS keeps them, quoted; null when there is none} */
    @SuppressWarnings("unchecked")
    private List<String> rrdatas() {
        Map<String, Object> set = rrsets.get(NAME);
        return set == null ? null : (List<String>) set.get("rrdatas");
    }

    @Override
    List<String> values() {
        List<String> rrdatas = rrdatas();
        if (rrdatas == null) {
            return List.of();
        }
        assertFalse(rrdatas.isEmpty(), "a record set without values is kept");
        for (String value : rrdatas) {
            assertTrue(value.length() > 1 && value.startsWith("\"") && value.endsWith("\""), "not quoted: " + value);
        }
        return rrdatas.stream().map(v -> v.substring(1, v.length() - 1)).toList();
    }

    @Override
    int writes() {
        return api.requests("POST", ".*/changes").size();
    }

    @Override
    Refusal refusal() throws Exception {
        api.on("POST", "/dns/v1/projects/my-project/managedZones/example-zone/changes", r -> googleError(403, "forbidden",
                "Forbidden: the caller does not have permission dns.changes.create"));
        return new Refusal(provider(), List.of("HTTP 403 (forbidden: Forbidden: the caller does not have permission dns.changes.create)"),
                List.of(accessToken));
    }

    @Override
    List<String> noZoneSays() {
        return List.of("no public managed zone of project my-project holds", "tried _acme-challenge.example.org, example.org, org",
                "GCE_ZONE_ID");
    }

    @Override
    List<Missing> missingCredentials() {
        return List.of(new Missing(Map.of("GCE_BASE_URL", api.url()), "dns_google_credentials", "GCE_SERVICE_ACCOUNT_FILE"));
    }

    @Test
    void presentTradesASignedJwtForATokenAndAddsTheQuotedValue() throws Exception {
        provider().present(record(VALUE_A));

        assertEquals(List.of("\"" + VALUE_A + "\""), rrdatas());
        assertEquals(120L, ((Number) rrsets.get(NAME).get("ttl")).longValue());
        assertTrue(api.failures().isEmpty(), api.failures().toString());
        assertTrue(api.unrouted().isEmpty(), api.unrouted().toString());
        assertEquals(1, api.requests("GET", ".*/changes/1").size());
        // the public zone, not the private one of the same name
        assertEquals(1, api.requests("POST", ".*/example-zone/changes").size());
    }

    @Test
    void theAccessTokenIsKeptForItsHourAcrossProviders() throws Exception {
        provider().present(record(VALUE_A));
        provider().present(record(VALUE_A));
        provider().cleanUp(record(VALUE_A));
        provider().cleanUp(record(VALUE_A));
        assertEquals(2, api.requests("POST", ".*/changes").size());
        assertEquals(1, api.requests("POST", "/token").size(), "the access token is kept for its hour");
    }

    @Test
    void aChangeMadeMeanwhileElsewhereIsReadAndMadeAgain() throws Exception {
        AtomicBoolean raced = new AtomicBoolean();
        FakeApi.Handler list = r -> {
            // another client adds its value between our read and our write
            if (raced.compareAndSet(false, true)) {
                synchronized (rrsets) {
                    Map<String, Object> theirs = new LinkedHashMap<>(Map.of("kind", "dns#resourceRecordSet", "name", NAME,
                            "type", "TXT", "ttl", 120, "rrdatas", List.of("\"" + VALUE_B + "\"")));
                    FakeApi.Response answer = FakeApi.Response.json(200, Map.of("rrsets", List.of()));
                    rrsets.put(NAME, theirs);
                    return answer;
                }
            }
            synchronized (rrsets) {
                return FakeApi.Response.json(200, Map.of("rrsets", rrsets.containsKey(NAME) ? List.of(rrsets.get(NAME)) : List.of()));
            }
        };
        api.on("GET", "/dns/v1/projects/my-project/managedZones/example-zone/rrsets", list);

        provider().present(record(VALUE_A));

        assertEquals(List.of("\"" + VALUE_B + "\"", "\"" + VALUE_A + "\""), rrdatas());
        assertEquals(2, api.requests("POST", ".*/changes").size());
    }

    @Test
    void aRefusedKeyGivesTheTokenEndpointsWordsAndNoKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair other = generator.generateKeyPair();
        keys = new KeyPair(keys.getPublic(), other.getPrivate());
        try {
            Path file = keyFile();
            AutocertException e = assertThrows(AutocertException.class,
                    () -> provider(Map.of("GCE_SERVICE_ACCOUNT_FILE", file.toString())).present(record(VALUE_B)));
            assertTrue(e.getMessage().contains("HTTP 400 (invalid_grant: Invalid JWT Signature.)"), e.getMessage());
            assertTrue(e.getMessage().contains(EMAIL), e.getMessage());
            assertFalse(e.getMessage().contains("PRIVATE KEY"), e.getMessage());
        } finally {
            makeKey();
        }
    }

    @Test
    void certbotsCredentialsKeyAndAProjectOfOnesOwnWork() throws Exception {
        Path file = keyFile();
        api.on("GET", "/dns/v1/projects/other-project/managedZones", r -> FakeApi.Response.json(200, Map.of("managedZones", List.of())));
        AutocertException e = assertThrows(AutocertException.class, () -> provider(Map.of("dns_google_credentials", file.toString(),
                "dns_google_project", "other-project")).present(record(VALUE_A)));
        assertTrue(e.getMessage().contains("no public managed zone of project other-project holds " + NAME), e.getMessage());
        assertTrue(e.getMessage().contains("GCE_ZONE_ID"), e.getMessage());
    }

    @Test
    void aGivenZoneIsUsedWithoutALookup() throws Exception {
        provider(Map.of("GCE_SERVICE_ACCOUNT", Files.readString(keyFile()), "GCE_ZONE_ID", "example-zone")).present(record(VALUE_A));
        assertTrue(api.requests("GET", ".*/managedZones").isEmpty());
        assertEquals(List.of("\"" + VALUE_A + "\""), rrdatas());
    }

    @Test
    void aKeyThatIsNotAServiceAccountKeyIsRefusedUnquoted() throws Exception {
        Path file = dir.resolve("user.json");
        Files.writeString(file, "{\"type\":\"authorized_user\",\"refresh_token\":\"1//secret-refresh\"}");
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> provider(Map.of("GCE_SERVICE_ACCOUNT_FILE", file.toString())));
        assertTrue(e.getMessage().contains("not service_account"), e.getMessage());
        assertFalse(e.getMessage().contains("secret-refresh"), e.getMessage());
    }

}
