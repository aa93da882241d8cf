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
 * {@code autocert.dns-provider=linode}: Linode's (Akamai's) API v4, one domain record per TXT
 * value. The domain is the longest suffix of the record's name that {@code GET /domains} finds
 * with an {@code X-Filter} on {@code domain}; present reads the domain's records, page by page,
 * and creates one only when its value is missing; clean up deletes the records holding its value
 * and no other. Authenticates with a personal access token ({@code Authorization: Bearer}; scope
 * Domains read/write). TXT targets are sent as is, without quotes. Linode rounds a TTL to the
 * next of its own steps (300 s, 3600 s, …).
 *
 * <p>Thread-safe; changes to one name are serialised within the process.
 */
final class LinodeProvider extends RecordPerValueProvider<LinodeProvider.Domain> {

    static final String DEFAULT_BASE_URL = "https://api.linode.com/v4";
    private static final String NAME = "linode";
    /** The API's largest page. */
    private static final int PAGE_SIZE = 500;

    private final ProviderHttp http;
    private final ZoneFinder<Domain> domains = new ZoneFinder<>();

    LinodeProvider(String baseUrl, String token) {
        requireNonNull(token, "token");
        this.http = new ProviderHttp(NAME, baseUrl, LinodeProvider::errorDetail, List.of(token), "Authorization", "Bearer " + token);
    }

    record Domain(String id, String name) {
    }

    /** The domain holding the record: the longest suffix of its name that is a domain of this account. */
    @Override
    Domain zone(TxtRecord record) throws AutocertException {
        return domains.find(record.relativeName(), name -> {
            String filter = new JSONBuilder().put("domain", name).toString();
            JSON answer = http.sendJson(http.request("/domains").header("X-Filter", filter).GET().build(), "looking up the domain " + name);
            for (JSON.Value d : answer.get("data").asArray()) {
                if (d.asObject().get("domain").asString().equalsIgnoreCase(name)) {
                    return Optional.of(new Domain(d.asObject().get("id").asString(), name));
                }
            }
            return Optional.empty();
        }, tried -> http.error("no domain of this account holds " + record.name() + " (tried " + String.join(", ", tried)
                + "); add the domain in Linode's DNS Manager, or check the token's account"));
    }

    /** The ids of the TXT records at the record's name that hold its value, following every page. */
    @Override
    List<String> find(Domain domain, TxtRecord record) throws AutocertException {
        return idsHolding(everyPage(page -> http.sendJson(http.request("/domains/" + domain.id() + "/records?page=" + page
                + "&page_size=" + PAGE_SIZE).GET().build(), listing(record)), "data", beforeLastPage("pages")), "target", record,
                relative(record, domain), record.relativeName());
    }

    @Override
    void create(Domain domain, TxtRecord record) throws AutocertException {
        String body = new JSONBuilder().put("type", "TXT").put("name", relative(record, domain)).put("target", record.value())
                .put("ttl_sec", record.ttl()).toString();
        http.send(http.request("/domains/" + domain.id() + "/records").POST(ProviderHttp.json(body))
                .header("Content-Type", "application/json").build(), adding(record));
    }

    @Override
    void delete(Domain domain, String id, TxtRecord record) throws AutocertException {
        http.send(http.request("/domains/" + domain.id() + "/records/" + id).DELETE().build(), removing(record), 404);
    }

    /** The name relative to the domain, as Linode writes it: empty for the domain itself. */
    private static String relative(TxtRecord record, Domain domain) {
        return ZoneFinder.relative(record.relativeName(), domain.name());
    }

    /** Linode's error body: {@code {"errors":[{"reason":"Invalid Token"}]}}, with a {@code field} when one is at fault. */
    private static String errorDetail(String body) {
        return String.join("; ", ProviderHttp.errors(JSON.parse(body).get("errors"), "field", "reason"));
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    /**
     * Its credentials: Certbot's {@code dns_linode_key} or lego's {@code LINODE_TOKEN}; {@code
     * LINODE_BASE_URL} points elsewhere (a proxy, a test).
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "LINODE", Duration.ofSeconds(120), Duration.ofSeconds(15), 300);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String token = credentials.require("dns_linode_key", "LINODE_TOKEN");
            return new LinodeProvider(ProviderHttp.baseUrl(credentials, "dns_linode_base_url", "LINODE_BASE_URL", DEFAULT_BASE_URL), token);
        }
    }
}
