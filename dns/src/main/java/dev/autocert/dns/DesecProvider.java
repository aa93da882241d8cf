package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;

/**
 * {@code autocert.dns-provider=desec}: deSEC's API ({@code desec.io/api/v1}), where a name's TXT
 * records are one RRset. The domain is the one {@code GET /domains/?owns_qname=} names; present
 * reads the RRset and writes it back with its value added ({@code PATCH}, or {@code POST} for a
 * new one), clean up writes it back without its value (an empty set deletes it). deSEC has no
 * conditional writes, so this read-modify-write is serialised per name within the process; two
 * processes changing one name at the same moment can still lose a value (a create that collides
 * is read again and retried). Authenticates with {@code Authorization: Token}. TXT values are
 * sent quoted, as the API's presentation format requires; the TTL is raised to the domain's
 * {@code minimum_ttl} when lower. A throttled request (429) is retried after the
 * {@code Retry-After} the API gives, when that is short.
 *
 * <p>Thread-safe.
 */
final class DesecProvider implements DnsProvider {

    static final String DEFAULT_BASE_URL = "https://desec.io/api/v1";
    private static final String NAME = "desec";
    /** deSEC throttles writes per domain to a few a second; waits up to this long are worth it. */
    private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);
    private static final int MAX_THROTTLED = 3;
    private static final NameLocks LOCKS = new NameLocks();

    private final ProviderHttp http;
    private final Map<String, Domain> domains = new ConcurrentHashMap<>();

    DesecProvider(String baseUrl, String token) {
        requireNonNull(token, "token");
        this.http = new ProviderHttp(NAME, baseUrl, DesecProvider::errorDetail, List.of(token), "Authorization", "Token " + token);
    }

    @Override
    public void present(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            Domain domain = domain(record);
            String what = "adding the TXT record " + record.name();
            for (int attempt = 1; ; attempt++) {
                List<String> records = records(domain, record);
                if (records != null && TxtValues.holds(records, record.value())) {
                    return;
                }
                if (records != null) {
                    patch(domain, record, TxtValues.adding(records, record.value()), what);
                    return;
                }
                String body = new JSONBuilder().put("subname", ZoneFinder.relative(record.relativeName(), domain.name())).put("type", "TXT")
                        .put("ttl", Math.max(record.ttl(), domain.minimumTtl())).array("records", List.of(TxtValues.quote(record.value())))
                        .toString();
                HttpResponse<String> response = send(http.request("/domains/" + domain.name() + "/rrsets/").POST(ProviderHttp.json(body)),
                        what, true);
                if (response.statusCode() / 100 == 2) {
                    return;
                }
                // 400 "Another RRset with the same subdomain and type exists": created meanwhile elsewhere, so read it again
                if (response.statusCode() != 400 || attempt > 1) {
                    throw http.failure(what, response);
                }
            }
        }
    }

    @Override
    public void cleanUp(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            Domain domain = domain(record);
            List<String> records = records(domain, record);
            if (records != null && TxtValues.holds(records, record.value())) {
                // an empty list deletes the RRset
                patch(domain, record, TxtValues.without(records, record.value()), "removing the TXT record " + record.name());
            }
        }
    }

    private void patch(Domain domain, TxtRecord record, List<String> records, String what) throws AutocertException {
        send(http.request(rrsetPath(domain, record)).method("PATCH", ProviderHttp.json(new JSONBuilder().array("records", records)
                .toString())), what, false);
    }

    /** The RRset's records as the API writes them (quoted), or null when there is no TXT RRset at the name. */
    private List<String> records(Domain domain, TxtRecord record) throws AutocertException {
        String what = "reading the TXT records at " + record.name();
        HttpResponse<String> response = send(http.request(rrsetPath(domain, record)).GET(), what, true);
        if (response.statusCode() == 404) {
            return null;
        }
        if (response.statusCode() / 100 != 2) {
            throw http.failure(what, response);
        }
        List<String> records = new ArrayList<>();
        for (JSON.Value r : http.parse(response.body(), what).get("records").asArray()) {
            records.add(r.asString());
        }
        return records;
    }

    /** The domain that holds the record, as deSEC answers {@code owns_qname}. */
    private Domain domain(TxtRecord record) throws AutocertException {
        Domain known = domains.get(record.name());
        if (known != null) {
            return known;
        }
        String what = "looking up the domain of " + record.name();
        HttpResponse<String> response = send(http.request("/domains/?owns_qname=" + ProviderHttp.encode(record.relativeName())).GET(),
                what, false);
        JSON.Array list = http.parseValue(response.body(), what).asArray();
        if (list.isEmpty()) {
            throw http.error("no domain of this account holds " + record.name()
                    + "; add the domain at desec.io, or check that the token belongs to the account that has it");
        }
        JSON d = list.get(0).asObject();
        Domain found = new Domain(d.get("name").asString(), d.get("minimum_ttl").optional().map(JSON.Value::asInt).orElse(0));
        domains.put(record.name(), found);
        return found;
    }

    /**
     * Sends, waiting out a short {@code Retry-After} when throttled.
     *
     * @param any whether any answer is returned (else only 2xx; others fail)
     */
    private HttpResponse<String> send(HttpRequest.Builder builder, String what, boolean any) throws AutocertException {
        HttpRequest request = builder.header("Content-Type", "application/json").build();
        for (int throttled = 0; ; throttled++) {
            HttpResponse<String> response = http.exchange(request, what);
            long wait = response.headers().firstValue("Retry-After").map(DesecProvider::seconds).orElse(-1L);
            if (response.statusCode() == 429 && throttled < MAX_THROTTLED && wait >= 0 && wait <= MAX_RETRY_AFTER.toSeconds()) {
                http.sleep(Duration.ofSeconds(Math.max(wait, 1)), what + " was interrupted");
                continue;
            }
            if (!any && response.statusCode() / 100 != 2) {
                throw http.failure(what, response);
            }
            return response;
        }
    }

    private static long seconds(String retryAfter) {
        try {
            return Long.parseLong(retryAfter.strip());
        } catch (NumberFormatException e) {
            return -1; // an HTTP date: not worth waiting for here
        }
    }

    /** The RRset's path; {@code @} stands for the domain itself, as an empty path segment would be lost. */
    private static String rrsetPath(Domain domain, TxtRecord record) {
        return "/domains/" + domain.name() + "/rrsets/" + ZoneFinder.relative(record.relativeName(), domain.name(), "@") + "/TXT/";
    }

    /**
     * deSEC's error body: {@code {"detail":"Invalid token."}}, or the fields at fault, {@code
     * {"records":["…"]}} or {@code {"non_field_errors":["…"]}}.
     */
    private static String errorDetail(String body) {
        JSON json = JSON.parse(body);
        if (json.get("detail").isPresent()) {
            return json.get("detail").asString();
        }
        List<String> parts = new ArrayList<>();
        for (String key : json.keySet()) {
            Object value = json.toMap().get(key);
            String text = value instanceof List<?> list ? list.stream().map(String::valueOf).reduce((a, b) -> a + " " + b).orElse("")
                    : String.valueOf(value);
            parts.add(key.equals("non_field_errors") ? text : key + ": " + text);
        }
        return String.join("; ", parts);
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    private record Domain(String name, int minimumTtl) {
    }

    /**
     * Its credentials: certbot-dns-desec's {@code dns_desec_token} or lego's {@code DESEC_TOKEN};
     * {@code dns_desec_endpoint} (certbot-dns-desec) or {@code DESEC_BASE_URL} points elsewhere.
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "DESEC", Duration.ofSeconds(120), Duration.ofSeconds(4), 3600);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String token = credentials.require("dns_desec_token", "DESEC_TOKEN");
            return new DesecProvider(ProviderHttp.baseUrl(credentials, "dns_desec_endpoint", "DESEC_BASE_URL", DEFAULT_BASE_URL), token);
        }
    }
}
