package dev.autocert.dns;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;

/**
 * {@code autocert.dns-provider=cloudflare}: Cloudflare's API v4, one DNS record per TXT value.
 * The zone is the longest suffix of the record's name that {@code GET /zones?name=} finds;
 * present lists the TXT records at the name and creates one only when its value is missing;
 * clean up deletes the records holding its value and no other. Authenticates with an API token
 * ({@code Authorization: Bearer}; Zone:Read and DNS:Edit, or a second token for Zone:Read) or
 * with the account's e-mail and Global API Key ({@code X-Auth-Email}, {@code X-Auth-Key}).
 * TXT content is sent quoted, as Cloudflare's dashboard expects, and compared without quotes.
 *
 * <p>Thread-safe; changes to one name are serialised within the process.
 */
final class CloudflareProvider extends RecordPerValueProvider<String> {

    static final String DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4";
    private static final String NAME = "cloudflare";
    private static final int PAGE_SIZE = 100;

    private final String[] dnsAuth;
    private final String[] zoneAuth;
    private final ProviderHttp http;
    private final ZoneFinder<String> zones = new ZoneFinder<>();

    /**
     * @param dnsAuth  the headers that authenticate record changes, as name-value pairs
     * @param zoneAuth the headers that authenticate zone look-ups
     * @param secrets  the values never to repeat from an error body
     */
    CloudflareProvider(String baseUrl, String[] dnsAuth, String[] zoneAuth, List<String> secrets) {
        this.dnsAuth = dnsAuth.clone();
        this.zoneAuth = zoneAuth.clone();
        this.http = new ProviderHttp(NAME, baseUrl, CloudflareProvider::errorDetail, secrets);
    }

    /** The zone holding the record: the longest suffix of its name that is a zone of this account. */
    @Override
    String zone(TxtRecord record) throws AutocertException {
        return zones.find(record.relativeName(), zone -> {
            JSON answer = http.sendJson(http.request("/zones?name=" + ProviderHttp.encode(zone) + "&per_page=50").headers(zoneAuth)
                    .GET().build(), "looking up the zone " + zone);
            for (JSON.Value z : answer.get("result").asArray()) {
                if (z.asObject().get("name").asString().equalsIgnoreCase(zone)) {
                    return Optional.of(z.asObject().get("id").asString());
                }
            }
            return Optional.empty();
        }, tried -> http.error("no zone of this account holds " + record.name() + " (tried " + String.join(", ", tried)
                + "); check that the zone is on this Cloudflare account and that the token may read it (Zone:Read)"));
    }

    /** The ids of the TXT records at the record's name that hold its value, following every page. */
    @Override
    List<String> find(String zone, TxtRecord record) throws AutocertException {
        return idsHolding(everyPage(page -> http.sendJson(http.request("/zones/" + zone + "/dns_records?type=TXT&name="
                + ProviderHttp.encode(record.relativeName()) + "&per_page=" + PAGE_SIZE + "&page=" + page).headers(dnsAuth).GET().build(),
                listing(record)), "result", beforeLastPage("result_info", "total_pages")), "content", record, record.relativeName());
    }

    @Override
    void create(String zone, TxtRecord record) throws AutocertException {
        String body = new JSONBuilder().put("type", "TXT").put("name", record.relativeName())
                .put("content", TxtValues.quote(record.value())).put("ttl", record.ttl()).toString();
        HttpRequest request = http.request("/zones/" + zone + "/dns_records").headers(dnsAuth)
                .POST(ProviderHttp.json(body)).header("Content-Type", "application/json").build();
        HttpResponse<String> response = http.exchange(request, adding(record));
        int status = response.statusCode();
        // "An identical record already exists" (400) after a create by another process is success
        if (status / 100 != 2 && (status != 400 || find(zone, record).isEmpty())) {
            throw http.failure(adding(record), response);
        }
    }

    @Override
    void delete(String zone, String id, TxtRecord record) throws AutocertException {
        http.send(http.request("/zones/" + zone + "/dns_records/" + id).headers(dnsAuth).DELETE().build(), removing(record), 404);
    }

    /** Cloudflare's {@code errors[]}: {@code code: message}, joined. */
    private static String errorDetail(String body) {
        return String.join("; ", ProviderHttp.errors(JSON.parse(body).get("errors"), "code", "message"));
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    /**
     * Its credentials: Certbot's {@code dns_cloudflare_api_token}, or {@code dns_cloudflare_email}
     * and {@code dns_cloudflare_api_key}; or lego's {@code CLOUDFLARE_DNS_API_TOKEN} (and
     * {@code CLOUDFLARE_ZONE_API_TOKEN}), or {@code CLOUDFLARE_EMAIL} and {@code CLOUDFLARE_API_KEY},
     * each also with lego's {@code CF_} aliases. {@code CLOUDFLARE_BASE_URL} points elsewhere (a
     * proxy, a test).
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "CLOUDFLARE", Duration.ofSeconds(120), Duration.ofSeconds(2), 120);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            Optional<String> token = credentials.get("dns_cloudflare_api_token", "CLOUDFLARE_DNS_API_TOKEN")
                    .or(() -> credentials.get(null, "CF_DNS_API_TOKEN"));
            Optional<String> zoneToken = credentials.get(null, "CLOUDFLARE_ZONE_API_TOKEN")
                    .or(() -> credentials.get(null, "CF_ZONE_API_TOKEN"));
            Optional<String> email = credentials.get("dns_cloudflare_email", "CLOUDFLARE_EMAIL")
                    .or(() -> credentials.get(null, "CF_API_EMAIL"));
            Optional<String> key = credentials.get("dns_cloudflare_api_key", "CLOUDFLARE_API_KEY")
                    .or(() -> credentials.get(null, "CF_API_KEY"));
            String baseUrl = ProviderHttp.baseUrl(credentials, "dns_cloudflare_base_url", "CLOUDFLARE_BASE_URL", DEFAULT_BASE_URL);
            if (token.isPresent()) {
                String[] dns = {"Authorization", "Bearer " + token.get()};
                String[] zones = zoneToken.map(z -> new String[] {"Authorization", "Bearer " + z}).orElse(dns);
                return new CloudflareProvider(baseUrl, dns, zones, List.of(token.get(), zoneToken.orElse("")));
            }
            if (email.isPresent() && key.isPresent()) {
                String[] auth = {"X-Auth-Email", email.get(), "X-Auth-Key", key.get()};
                return new CloudflareProvider(baseUrl, auth, auth, List.of(key.get()));
            }
            if (email.isPresent()) {
                throw credentials.missing(List.of("dns_cloudflare_api_key"), List.of("CLOUDFLARE_API_KEY (or CF_API_KEY)"));
            }
            if (key.isPresent()) {
                throw credentials.missing(List.of("dns_cloudflare_email"), List.of("CLOUDFLARE_EMAIL (or CF_API_EMAIL)"));
            }
            throw credentials.missing(List.of("dns_cloudflare_api_token", "dns_cloudflare_email with dns_cloudflare_api_key"),
                    List.of("CLOUDFLARE_DNS_API_TOKEN (or CF_DNS_API_TOKEN)", "CLOUDFLARE_EMAIL with CLOUDFLARE_API_KEY"));
        }
    }
}
