package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;

/**
 * {@code autocert.dns-provider=digitalocean}: DigitalOcean's API v2 ({@code /v2/domains}), one
 * domain record per TXT value. The domain is the longest suffix of the record's name that
 * {@code GET /v2/domains/{name}} knows; present lists the TXT records at the name ({@code
 * ?type=TXT&name=}, page by page) and creates one only when its value is missing; clean up
 * deletes the records holding its value and no other. Authenticates with a personal access
 * token ({@code Authorization: Bearer}). TXT data is sent as is, without quotes.
 *
 * <p>Thread-safe; changes to one name are serialised within the process.
 */
final class DigitalOceanProvider extends RecordPerValueProvider<String> {

    static final String DEFAULT_BASE_URL = "https://api.digitalocean.com";
    private static final String NAME = "digitalocean";
    private static final int PAGE_SIZE = 200;

    private final ProviderHttp http;
    private final ZoneFinder<String> domains = new ZoneFinder<>();

    DigitalOceanProvider(String baseUrl, String token) {
        requireNonNull(token, "token");
        this.http = new ProviderHttp(NAME, baseUrl, DigitalOceanProvider::errorDetail, List.of(token), "Authorization", "Bearer " + token);
    }

    /** The domain holding the record: the longest suffix of its name that is a domain of this account. */
    @Override
    String zone(TxtRecord record) throws AutocertException {
        return domains.find(record.relativeName(), domain -> http.exists(http.request("/v2/domains/" + domain).GET().build(),
                "looking up the domain " + domain) ? Optional.of(domain) : Optional.empty(),
                tried -> http.error("no domain of this account holds " + record.name() + " (tried " + String.join(", ", tried)
                        + "); add the domain under Networking → Domains, or check the token's team"));
    }

    /** The ids of the TXT records at the record's name that hold its value, following every page. */
    @Override
    List<String> find(String domain, TxtRecord record) throws AutocertException {
        List<JSON.Value> records = everyPage(page -> http.sendJson(http.request("/v2/domains/" + domain + "/records?type=TXT&name="
                + ProviderHttp.encode(record.relativeName()) + "&per_page=" + PAGE_SIZE + "&page=" + page).GET().build(), listing(record)),
                "domain_records", (answer, page) -> answer.get("links").optional().map(l -> l.asObject().get("pages"))
                        .filter(JSON.Value::isPresent).map(p -> p.asObject().get("next").isPresent()).orElse(false));
        return idsHolding(records, "data", record, relative(record, domain), record.relativeName());
    }

    @Override
    void create(String domain, TxtRecord record) throws AutocertException {
        String body = new JSONBuilder().put("type", "TXT").put("name", relative(record, domain)).put("data", record.value())
                .put("ttl", record.ttl()).toString();
        http.send(http.request("/v2/domains/" + domain + "/records").POST(ProviderHttp.json(body))
                .header("Content-Type", "application/json").build(), adding(record));
    }

    @Override
    void delete(String domain, String id, TxtRecord record) throws AutocertException {
        http.send(http.request("/v2/domains/" + domain + "/records/" + id).DELETE().build(), removing(record), 404);
    }

    /** The name relative to the domain, as DigitalOcean writes it: {@code @} for the domain itself. */
    private static String relative(TxtRecord record, String domain) {
        return ZoneFinder.relative(record.relativeName(), domain, "@");
    }

    /** DigitalOcean's error body: {@code {"id":"unauthorized","message":"Unable to authenticate you"}}. */
    private static String errorDetail(String body) {
        JSON json = JSON.parse(body);
        String message = json.get("message").optional().map(JSON.Value::asString).orElse(null);
        String id = json.get("id").optional().map(JSON.Value::asString).orElse(null);
        return id != null && message != null ? id + ": " + message : message;
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    /**
     * Its credentials: Certbot's {@code dns_digitalocean_token} or lego's {@code DO_AUTH_TOKEN};
     * {@code DO_API_URL} points elsewhere (a proxy, a test).
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "DO", Duration.ofSeconds(60), Duration.ofSeconds(5), 30);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String token = credentials.require("dns_digitalocean_token", "DO_AUTH_TOKEN");
            return new DigitalOceanProvider(ProviderHttp.baseUrl(credentials, "dns_digitalocean_base_url", "DO_API_URL", DEFAULT_BASE_URL),
                    token);
        }
    }
}
