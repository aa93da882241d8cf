package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;

/**
 * {@code autocert.dns-provider=ovh}: OVHcloud's API v1, one DNS record per TXT value, each call
 * signed with the application's keys: {@code X-Ovh-Signature: $1$} and the SHA-1 of application
 * secret, consumer key, method, full URL, body and timestamp joined by {@code +}; the timestamp
 * is the API's clock ({@code GET /auth/time}, its offset from ours kept per endpoint). The zone
 * is the longest suffix of the record's name among the account's zones ({@code GET
 * /domain/zone}); present lists the TXT records at the sub-domain and creates one only when its
 * value is missing, clean up deletes the ones holding its value and no other, and both then
 * apply the zone ({@code POST /domain/zone/{zone}/refresh}), without which OVH serves nothing new.
 * Thread-safe; changes to one name are serialised within this process.
 */
final class OvhProvider extends RecordPerValueProvider<String> {

    private static final String NAME = "ovh";
    /** The named endpoints of OVHcloud's API clients. */
    static final Map<String, String> ENDPOINTS = Map.of(
            "ovh-eu", "https://api.eu.ovhcloud.com/1.0",
            "ovh-ca", "https://api.ca.ovhcloud.com/1.0",
            "ovh-us", "https://api.us.ovhcloud.com/1.0",
            "kimsufi-eu", "https://eu.api.kimsufi.com/1.0",
            "kimsufi-ca", "https://ca.api.kimsufi.com/1.0",
            "soyoustart-eu", "https://eu.api.soyoustart.com/1.0",
            "soyoustart-ca", "https://ca.api.soyoustart.com/1.0");
    /** The API's clock minus ours, in seconds, per endpoint: it does not change, so it is asked once. */
    private static final Map<String, Long> CLOCK_OFFSETS = new ConcurrentHashMap<>();

    private final String applicationKey;
    private final String applicationSecret;
    private final String consumerKey;
    private final ProviderHttp http;

    OvhProvider(String baseUrl, String applicationKey, String applicationSecret, String consumerKey) {
        this.applicationKey = requireNonNull(applicationKey, "applicationKey");
        this.applicationSecret = requireNonNull(applicationSecret, "applicationSecret");
        this.consumerKey = requireNonNull(consumerKey, "consumerKey");
        this.http = new ProviderHttp(NAME, requireNonNull(baseUrl, "baseUrl"), OvhProvider::errorDetail,
                List.of(applicationSecret, consumerKey));
    }

    /** The zone holding the record: the longest suffix of its name among the account's zones. */
    @Override
    String zone(TxtRecord record) throws AutocertException {
        List<String> zones = call("GET", "/domain/zone", null, "listing the account's zones").asArray().stream()
                .map(v -> v.asString().toLowerCase(Locale.ROOT)).toList();
        return ZoneFinder.suffixes(record.relativeName()).stream().filter(zones::contains).findFirst().orElseThrow(() -> http.error(
                "no zone of this account holds " + record.name() + " (its zones: " + (zones.isEmpty() ? "none" : String.join(", ", zones))
                + "); check the endpoint and that the consumer key may read /domain/zone"));
    }

    /** The ids of the TXT records at the sub-domain that hold the record's value. */
    @Override
    List<String> find(String zone, TxtRecord record) throws AutocertException {
        String sub = ZoneFinder.relative(record.relativeName(), zone);
        List<String> found = new ArrayList<>();
        JSON.Array ids = call("GET", "/domain/zone/" + zone + "/record?fieldType=TXT&subDomain=" + ProviderHttp.encode(sub), null,
                listing(record)).asArray();
        for (JSON.Value id : ids) {
            JSON r = call("GET", "/domain/zone/" + zone + "/record/" + id.asString(), null, listing(record)).asObject();
            if (TxtValues.unquote(r.get("target").asString()).equals(record.value())) {
                found.add(id.asString());
            }
        }
        return found;
    }

    @Override
    void create(String zone, TxtRecord record) throws AutocertException {
        String body = new JSONBuilder().put("fieldType", "TXT").put("subDomain", ZoneFinder.relative(record.relativeName(), zone))
                .put("target", record.value()).put("ttl", record.ttl()).toString();
        call("POST", "/domain/zone/" + zone + "/record", body, adding(record));
    }

    @Override
    void delete(String zone, String id, TxtRecord record) throws AutocertException {
        call("DELETE", "/domain/zone/" + zone + "/record/" + id, null, removing(record));
    }

    /** Applies the zone: without it OVH serves nothing new. */
    @Override
    void changed(String zone) throws AutocertException {
        call("POST", "/domain/zone/" + zone + "/refresh", null, "applying the zone " + zone);
    }

    /**
     * Sends a signed call. {@return its answer, which may be an array, a number or {@code null}
     * as well as an object}
     */
    private JSON.Value call(String method, String path, String body, String what) throws AutocertException {
        String url = http.base() + path;
        long timestamp = Instant.now().getEpochSecond() + clockOffset();
        String signature = "$1$" + sha1(applicationSecret + "+" + consumerKey + "+" + method + "+" + url + "+" + (body == null ? "" : body)
                + "+" + timestamp);
        HttpRequest.Builder request = http.request(path).header("X-Ovh-Application", applicationKey).header("X-Ovh-Consumer", consumerKey)
                .header("X-Ovh-Timestamp", Long.toString(timestamp)).header("X-Ovh-Signature", signature);
        if (body != null) {
            request.header("Content-Type", "application/json;charset=utf-8").method(method, ProviderHttp.json(body));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return http.parseValue(http.send(request.build(), what).body(), what);
    }

    /** The API's clock minus ours, from the unauthenticated {@code GET /auth/time}. */
    private long clockOffset() throws AutocertException {
        Long known = CLOCK_OFFSETS.get(http.base());
        if (known != null) {
            return known;
        }
        String what = "reading the API's clock";
        String body = http.send(http.request("/auth/time").GET().build(), what).body();
        long offset;
        try {
            offset = Long.parseLong(body.strip()) - Instant.now().getEpochSecond();
        } catch (NumberFormatException e) {
            throw http.error(what + ": /auth/time answered something that is not a number");
        }
        CLOCK_OFFSETS.put(http.base(), offset);
        return offset;
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-1 is missing from this JVM", e);
        }
    }

    /** OVH's error: {@code class} and {@code message}. */
    private static String errorDetail(String body) {
        JSON json = JSON.parse(body);
        String message = json.get("message").optional().map(JSON.Value::asString).orElse("");
        String errorClass = json.get("class").optional().map(JSON.Value::asString).orElse("");
        return errorClass.isEmpty() ? message : errorClass + ": " + message;
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ", application " + applicationKey + ")";
    }

    /**
     * Its credentials: Certbot's {@code dns_ovh_endpoint}, {@code dns_ovh_application_key},
     * {@code dns_ovh_application_secret}, {@code dns_ovh_consumer_key}, or lego's {@code
     * OVH_ENDPOINT}, {@code OVH_APPLICATION_KEY}, {@code OVH_APPLICATION_SECRET}, {@code
     * OVH_CONSUMER_KEY}. The endpoint is a name ({@code ovh-eu}, the default, {@code ovh-ca},
     * {@code ovh-us}, {@code kimsufi-eu}, …) or, as go-ovh takes it, a URL. lego's defaults: TTL
     * 120 s, propagation timeout 60 s, polling interval 2 s.
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "OVH", Duration.ofSeconds(60), Duration.ofSeconds(2), 120);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String endpoint = credentials.get("dns_ovh_endpoint", "OVH_ENDPOINT").orElse("ovh-eu").strip();
            String base;
            if (endpoint.contains("/")) {
                base = ProviderHttp.baseUrl(credentials, "dns_ovh_endpoint", "OVH_ENDPOINT", ENDPOINTS.get("ovh-eu"));
            } else if (ENDPOINTS.containsKey(endpoint.toLowerCase(Locale.ROOT))) {
                base = ENDPOINTS.get(endpoint.toLowerCase(Locale.ROOT));
            } else {
                throw credentials.invalid("endpoint (dns_ovh_endpoint, OVH_ENDPOINT)", "is '" + endpoint + "'; expected one of "
                        + String.join(", ", ENDPOINTS.keySet().stream().sorted().toList()) + ", or the API's URL");
            }
            if (credentials.get("dns_ovh_application_key", "OVH_APPLICATION_KEY").isEmpty()
                    && (credentials.get(null, "OVH_CLIENT_ID").isPresent() || credentials.get(null, "OVH_ACCESS_TOKEN").isPresent())) {
                throw credentials.invalid("OVH_CLIENT_ID / OVH_ACCESS_TOKEN", "(OAuth2) are not supported yet; create an application "
                        + "key, secret and consumer key (as Certbot's dns-ovh plugin uses) and give them instead");
            }
            String key = credentials.require("dns_ovh_application_key", "OVH_APPLICATION_KEY");
            String secret = credentials.require("dns_ovh_application_secret", "OVH_APPLICATION_SECRET");
            String consumer = credentials.require("dns_ovh_consumer_key", "OVH_CONSUMER_KEY");
            return new OvhProvider(base, key, secret, consumer);
        }
    }
}
