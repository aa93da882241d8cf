package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;

/**
 * {@code autocert.dns-provider=gandi}: Gandi's LiveDNS API (v5), where a name's TXT records are
 * one record set. The domain is the longest suffix of the record's name that {@code GET
 * /domains/{fqdn}} finds; present reads the set at the name and writes it back with its value
 * added ({@code PUT} with {@code rrset_values}), clean up writes it back without its value, or
 * deletes the set when nothing else is left. LiveDNS has no conditional writes, so this
 * read-modify-write is serialised per name within the process. Authenticates with a personal
 * access token ({@code Authorization: Bearer}) or, deprecated, an API key ({@code
 * Authorization: Apikey}); a {@code sharing_id} selects an organization. TXT values are sent
 * quoted, as LiveDNS returns them.
 *
 * <p>Thread-safe.
 */
final class GandiProvider implements DnsProvider {

    static final String DEFAULT_BASE_URL = "https://api.gandi.net/v5/livedns";
    private static final String NAME = "gandi";
    private static final NameLocks LOCKS = new NameLocks();

    private final String sharing;
    private final ProviderHttp http;
    private final ZoneFinder<String> domains = new ZoneFinder<>();

    /**
     * @param authorization the {@code Authorization} header's value
     * @param secret        the token or key in it, never to be repeated from an error body
     * @param sharingId     the organization to act for, or null
     */
    GandiProvider(String baseUrl, String authorization, String secret, String sharingId) {
        this.sharing = sharingId == null ? "" : "?sharing_id=" + ProviderHttp.encode(sharingId);
        this.http = new ProviderHttp(NAME, baseUrl, GandiProvider::errorDetail, List.of(requireNonNull(secret, "secret")),
                "Authorization", requireNonNull(authorization, "authorization"));
    }

    @Override
    public void present(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            String domain = domain(record);
            Rrset rrset = rrset(domain, record);
            if (!TxtValues.holds(rrset.values(), record.value())) {
                put(domain, record, rrset.ttl() > 0 ? rrset.ttl() : record.ttl(), TxtValues.adding(rrset.values(), record.value()),
                        "adding the TXT record " + record.name());
            }
        }
    }

    @Override
    public void cleanUp(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            String domain = domain(record);
            Rrset rrset = rrset(domain, record);
            if (!TxtValues.holds(rrset.values(), record.value())) {
                return;
            }
            List<String> values = TxtValues.without(rrset.values(), record.value());
            String what = "removing the TXT record " + record.name();
            if (values.isEmpty()) {
                http.send(request(domain, record).DELETE().build(), what, 404);
            } else {
                put(domain, record, rrset.ttl(), values, what);
            }
        }
    }

    private void put(String domain, TxtRecord record, int ttl, List<String> values, String what) throws AutocertException {
        String body = new JSONBuilder().put("rrset_ttl", ttl).array("rrset_values", values).toString();
        http.send(request(domain, record).PUT(ProviderHttp.json(body)).header("Content-Type", "application/json").build(), what);
    }

    /** The TXT record set at the record's name; empty (TTL 0) when there is none. */
    private Rrset rrset(String domain, TxtRecord record) throws AutocertException {
        String what = "reading the TXT records at " + record.name();
        HttpResponse<String> response = http.send(request(domain, record).GET().build(), what, 404);
        if (response.statusCode() == 404) {
            return new Rrset(0, List.of());
        }
        JSON json = http.parse(response.body(), what);
        List<String> values = new ArrayList<>();
        for (JSON.Value v : json.get("rrset_values").asArray()) {
            values.add(v.asString());
        }
        return new Rrset(json.get("rrset_ttl").optional().map(JSON.Value::asInt).orElse(0), values);
    }

    /** The domain holding the record: the longest suffix of its name that LiveDNS manages for this account. */
    private String domain(TxtRecord record) throws AutocertException {
        return domains.find(record.relativeName(), domain -> http.exists(http.request("/domains/" + domain + sharing).GET().build(),
                "looking up the domain " + domain) ? Optional.of(domain) : Optional.empty(),
                tried -> http.error("no domain in LiveDNS holds " + record.name() + " (tried " + String.join(", ", tried)
                        + "); check that the domain uses Gandi's LiveDNS and that the token may manage its technical configuration"));
    }

    /** A request for the record set: its name relative to the domain, {@code @} for the domain itself. */
    private HttpRequest.Builder request(String domain, TxtRecord record) {
        return http.request("/domains/" + domain + "/records/" + ZoneFinder.relative(record.relativeName(), domain, "@") + "/TXT"
                + sharing);
    }

    /**
     * Gandi's error bodies: {@code {"code":401,"message":"…","object":"HTTPUnauthorized","cause":"Unauthorized"}},
     * or for invalid input {@code {"status":"error","errors":[{"name":"rrset_values","description":"…"}]}}.
     */
    private static String errorDetail(String body) {
        JSON json = JSON.parse(body);
        List<String> parts = new ArrayList<>();
        json.get("cause").optional().map(JSON.Value::asString).ifPresent(parts::add);
        json.get("message").optional().map(JSON.Value::asString).ifPresent(parts::add);
        parts.addAll(ProviderHttp.errors(json.get("errors"), "name", "description"));
        return String.join(": ", parts);
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    private record Rrset(int ttl, List<String> values) {
    }

    /**
     * Its credentials: a personal access token as certbot-dns-gandi's {@code dns_gandi_token} or
     * lego's {@code GANDIV5_PERSONAL_ACCESS_TOKEN}, or the deprecated API key as {@code
     * dns_gandi_api_key} or {@code GANDIV5_API_KEY}; {@code dns_gandi_sharing_id} names an
     * organization; {@code GANDIV5_BASE_URL} points elsewhere (a proxy, a test).
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "GANDIV5", Duration.ofSeconds(1200), Duration.ofSeconds(20), 300);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String token = credentials.get("dns_gandi_token", "GANDIV5_PERSONAL_ACCESS_TOKEN").orElse(null);
            String key = credentials.get("dns_gandi_api_key", "GANDIV5_API_KEY").orElse(null);
            if (token == null && key == null) {
                throw credentials.missing(List.of("dns_gandi_token"), List.of("GANDIV5_PERSONAL_ACCESS_TOKEN"));
            }
            String sharingId = credentials.get("dns_gandi_sharing_id", "GANDIV5_SHARING_ID").orElse(null);
            String url = ProviderHttp.baseUrl(credentials, "dns_gandi_base_url", "GANDIV5_BASE_URL", DEFAULT_BASE_URL);
            return token != null ? new GandiProvider(url, "Bearer " + token, token, sharingId)
                    : new GandiProvider(url, "Apikey " + key, key, sharingId);
        }
    }
}
