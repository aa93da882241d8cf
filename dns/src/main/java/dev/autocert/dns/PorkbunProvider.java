package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;

/**
 * {@code autocert.dns-provider=porkbun}: Porkbun's API v3, one DNS record per TXT value. Every
 * call is a {@code POST} whose JSON body carries the API key and secret key; an answer's {@code
 * status} says whether it worked, whatever the HTTP status. The domain is the longest suffix of
 * the record's name among the account's domains ({@code /domain/listAll}, read 1000 at a time);
 * present reads the TXT records at the name ({@code /dns/retrieveByNameType}) and creates one
 * only when its value is missing; clean up deletes the records holding its value ({@code
 * /dns/delete/{domain}/{id}}) and no other. API access must be switched on for the domain in
 * Porkbun's domain management. TXT content is sent as is, without quotes.
 *
 * <p>Thread-safe; changes to one name are serialised within the process.
 */
final class PorkbunProvider extends RecordPerValueProvider<String> {

    static final String DEFAULT_BASE_URL = "https://api.porkbun.com/api/json/v3";
    private static final String NAME = "porkbun";
    /** {@code /domain/listAll} answers this many domains at a time. */
    private static final int DOMAIN_PAGE = 1000;

    private final String apiKey;
    private final String secretKey;
    private final ProviderHttp http;
    private final Map<String, String> domains = new ConcurrentHashMap<>();

    PorkbunProvider(String baseUrl, String apiKey, String secretKey) {
        this.apiKey = requireNonNull(apiKey, "apiKey");
        this.secretKey = requireNonNull(secretKey, "secretKey");
        this.http = new ProviderHttp(NAME, baseUrl, PorkbunProvider::errorDetail, List.of(apiKey, secretKey));
    }

    /** The domain holding the record: the longest suffix of its name among the account's domains. */
    @Override
    String zone(TxtRecord record) throws AutocertException {
        String known = domains.get(record.name());
        if (known != null) {
            return known;
        }
        String best = null;
        for (int start = 0; ; start += DOMAIN_PAGE) {
            JSON answer = call("/domain/listAll", Map.of("start", Integer.toString(start)), "listing the account's domains");
            JSON.Array page = answer.get("domains").optional().map(JSON.Value::asArray).orElse(null);
            if (page == null || page.isEmpty()) {
                break;
            }
            for (JSON.Value d : page) {
                String domain = d.asObject().get("domain").asString().toLowerCase(Locale.ROOT);
                if ((record.relativeName().equals(domain) || record.relativeName().endsWith("." + domain))
                        && (best == null || domain.length() > best.length())) {
                    best = domain;
                }
            }
            if (page.size() < DOMAIN_PAGE) {
                break;
            }
        }
        if (best == null) {
            throw http.error("no domain of this account holds " + record.name() + "; check that the domain is in this Porkbun account");
        }
        domains.put(record.name(), best);
        return best;
    }

    /** The ids of the TXT records at the record's name that hold its value. */
    @Override
    List<String> find(String domain, TxtRecord record) throws AutocertException {
        String subdomain = ZoneFinder.relative(record.relativeName(), domain);
        JSON answer = call("/dns/retrieveByNameType/" + domain + "/TXT" + (subdomain.isEmpty() ? "" : "/" + subdomain), Map.of(),
                "reading the TXT records at " + record.name());
        return idsHolding(answer.get("records").asArray(), "content", record, record.relativeName());
    }

    @Override
    void create(String domain, TxtRecord record) throws AutocertException {
        call("/dns/create/" + domain, Map.of("name", ZoneFinder.relative(record.relativeName(), domain), "type", "TXT",
                "content", record.value(), "ttl", Integer.toString(record.ttl())), adding(record));
    }

    @Override
    void delete(String domain, String id, TxtRecord record) throws AutocertException {
        call("/dns/delete/" + domain + "/" + id, Map.of(), removing(record));
    }

    /** POSTs {@code fields} and the keys to {@code path}; an answer whose status is not SUCCESS fails. */
    private JSON call(String path, Map<String, String> fields, String what) throws AutocertException {
        JSONBuilder body = new JSONBuilder().put("apikey", apiKey).put("secretapikey", secretKey);
        fields.forEach(body::put);
        JSON answer = http.sendJson(http.request(path).header("Content-Type", "application/json")
                .POST(ProviderHttp.json(body.toString())).build(), what);
        String status = answer.get("status").optional().map(JSON.Value::asString).orElse("");
        if (!status.equalsIgnoreCase("SUCCESS")) {
            throw http.error(what + " failed: " + answer.get("message").optional().map(JSON.Value::asString).map(http::redact)
                    .orElse("status " + status));
        }
        return answer;
    }

    /** Porkbun's error body: {@code {"status":"ERROR","message":"Invalid API key. (001)"}}. */
    private static String errorDetail(String body) {
        return JSON.parse(body).get("message").optional().map(JSON.Value::asString).orElse(null);
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    /**
     * Its credentials: certbot-dns-porkbun's {@code dns_porkbun_key} and {@code
     * dns_porkbun_secret}, or lego's {@code PORKBUN_API_KEY} and {@code PORKBUN_SECRET_API_KEY};
     * {@code PORKBUN_BASE_URL} points elsewhere (a proxy, a test).
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "PORKBUN", Duration.ofSeconds(600), Duration.ofSeconds(10), 300);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String apiKey = credentials.require("dns_porkbun_key", "PORKBUN_API_KEY");
            String secretKey = credentials.require("dns_porkbun_secret", "PORKBUN_SECRET_API_KEY");
            return new PorkbunProvider(ProviderHttp.baseUrl(credentials, "dns_porkbun_base_url", "PORKBUN_BASE_URL", DEFAULT_BASE_URL),
                    apiKey, secretKey);
        }
    }
}
