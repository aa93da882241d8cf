package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;

/**
 * {@code autocert.dns-provider=dnsimple}: DNSimple's API v2, one zone record per TXT value. The
 * account is the one the token belongs to ({@code GET /v2/whoami}; an account token, not a user
 * token); the zone is the longest suffix of the record's name that {@code GET
 * /v2/{account}/zones/{name}} finds; present lists the TXT records at the name ({@code
 * ?name=&type=TXT}, page by page) and creates one only when its value is missing; clean up
 * deletes the records holding its value and no other. Authenticates with {@code Authorization:
 * Bearer}. TXT content is sent without quotes; DNSimple stores it quoted, and it is compared
 * without them.
 *
 * <p>Thread-safe; changes to one name are serialised within the process.
 */
final class DnsimpleProvider extends RecordPerValueProvider<String> {

    static final String DEFAULT_BASE_URL = "https://api.dnsimple.com";
    private static final String NAME = "dnsimple";
    /** The API's largest page. */
    private static final int PAGE_SIZE = 100;

    private final ProviderHttp http;
    private final ZoneFinder<String> zones = new ZoneFinder<>();
    private volatile String account;

    DnsimpleProvider(String baseUrl, String token) {
        requireNonNull(token, "token");
        this.http = new ProviderHttp(NAME, baseUrl, DnsimpleProvider::errorDetail, List.of(token), "Authorization", "Bearer " + token);
    }

    /** The account the token belongs to. */
    private String account() throws AutocertException {
        String known = account;
        if (known != null) {
            return known;
        }
        JSON data = http.sendJson(http.request("/v2/whoami").GET().build(), "finding the token's account").get("data").asObject();
        if (!data.get("account").isPresent()) {
            throw http.error("the token is a user token, which acts for no one account; "
                    + "create an account token (Account → Automation → API tokens) and use it instead");
        }
        known = data.get("account").asObject().get("id").asString();
        account = known;
        return known;
    }

    /** The zone holding the record: the longest suffix of its name that is a zone of the account. */
    @Override
    String zone(TxtRecord record) throws AutocertException {
        String accountId = account();
        return zones.find(record.relativeName(), zone -> http.exists(http.request("/v2/" + accountId + "/zones/" + zone).GET().build(),
                "looking up the zone " + zone) ? Optional.of(zone) : Optional.empty(),
                tried -> http.error("no zone of account " + accountId + " holds " + record.name() + " (tried " + String.join(", ", tried)
                        + "); check that the domain's DNS is hosted at DNSimple in this account"));
    }

    /** The ids of the TXT records at the record's name that hold its value, following every page. */
    @Override
    List<String> find(String zone, TxtRecord record) throws AutocertException {
        String relative = ZoneFinder.relative(record.relativeName(), zone);
        return idsHolding(everyPage(page -> http.sendJson(http.request("/v2/" + account() + "/zones/" + zone + "/records?name="
                + ProviderHttp.encode(relative) + "&type=TXT&per_page=" + PAGE_SIZE + "&page=" + page).GET().build(), listing(record)),
                "data", beforeLastPage("pagination", "total_pages")), "content", record, relative);
    }

    @Override
    void create(String zone, TxtRecord record) throws AutocertException {
        String body = new JSONBuilder().put("name", ZoneFinder.relative(record.relativeName(), zone)).put("type", "TXT")
                .put("content", record.value()).put("ttl", record.ttl()).toString();
        http.send(http.request("/v2/" + account() + "/zones/" + zone + "/records").POST(ProviderHttp.json(body))
                .header("Content-Type", "application/json").build(), adding(record));
    }

    @Override
    void delete(String zone, String id, TxtRecord record) throws AutocertException {
        http.send(http.request("/v2/" + account() + "/zones/" + zone + "/records/" + id).DELETE().build(), removing(record), 404);
    }

    /** DNSimple's error body: {@code {"message":"Validation failed","errors":{"content":["…"]}}}. */
    private static String errorDetail(String body) {
        JSON json = JSON.parse(body);
        List<String> parts = new ArrayList<>();
        json.get("message").optional().map(JSON.Value::asString).ifPresent(parts::add);
        if (json.get("errors").isPresent()) {
            json.get("errors").asObject().toMap().forEach((field, problems) -> parts.add(field + " " + (problems instanceof List<?> list
                    ? String.join(", ", list.stream().map(String::valueOf).toList()) : String.valueOf(problems))));
        }
        return String.join(": ", parts);
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    /**
     * Its credentials: Certbot's {@code dns_dnsimple_token} or lego's {@code DNSIMPLE_OAUTH_TOKEN},
     * an account token; {@code DNSIMPLE_BASE_URL} points elsewhere (the sandbox, a proxy, a test).
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "DNSIMPLE", Duration.ofSeconds(60), Duration.ofSeconds(2), 120);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String token = credentials.require("dns_dnsimple_token", "DNSIMPLE_OAUTH_TOKEN");
            return new DnsimpleProvider(ProviderHttp.baseUrl(credentials, "dns_dnsimple_base_url", "DNSIMPLE_BASE_URL", DEFAULT_BASE_URL),
                    token);
        }
    }
}
