package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;

/**
 * {@code autocert.dns-provider=hetzner}: the DNS part of the Hetzner Cloud API ({@code
 * api.hetzner.cloud/v1}), where DNS lives since Hetzner moved zones to its Console and retired
 * the DNS Console API ({@code dns.hetzner.com}, announced for May 2026). The zone is the longest suffix of the record's name that
 * {@code GET /zones?name=} finds; present and clean up use the RRSet actions {@code add_records}
 * and {@code remove_records}, which add or remove single values on the server, so other values at
 * the name are never rewritten; each action is awaited until it succeeds. Authenticates with a
 * project's API token ({@code Authorization: Bearer}). TXT values are sent quoted, as the API
 * requires.
 *
 * <p>Thread-safe; changes to one name are serialised within the process, as each looks at the
 * RRSet before changing it.
 */
final class HetznerProvider implements DnsProvider {

    static final String DEFAULT_BASE_URL = "https://api.hetzner.cloud/v1";
    private static final String NAME = "hetzner";
    /** How long an action may run before we give up on it: they normally finish within a second or two. */
    private static final Duration ACTION_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration ACTION_POLL_MAX = Duration.ofSeconds(2);
    private static final NameLocks LOCKS = new NameLocks();

    private final ProviderHttp http;
    private final ZoneFinder<Zone> zones = new ZoneFinder<>();

    HetznerProvider(String baseUrl, String token) {
        requireNonNull(token, "token");
        this.http = new ProviderHttp(NAME, baseUrl, HetznerProvider::errorDetail, List.of(token), "Authorization", "Bearer " + token);
    }

    @Override
    public void present(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            String rrset = rrsetPath(zone(record), record);
            List<String> values = values(rrset, record);
            if (values != null && values.contains(record.value())) {
                return;
            }
            JSONBuilder body = new JSONBuilder();
            if (values == null) {
                body.put("ttl", record.ttl()); // only for a new RRSet: an existing one keeps its TTL
            }
            body.array("records", List.of(Map.of("value", TxtValues.quote(record.value()))));
            act(rrset + "/actions/add_records", body.toString(), "adding the TXT record " + record.name());
        }
    }

    @Override
    public void cleanUp(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            String rrset = rrsetPath(zone(record), record);
            List<String> values = values(rrset, record);
            if (values == null || !values.contains(record.value())) {
                return;
            }
            String body = new JSONBuilder().array("records", List.of(Map.of("value", TxtValues.quote(record.value())))).toString();
            act(rrset + "/actions/remove_records", body, "removing the TXT record " + record.name());
        }
    }

    /** The unquoted values of the TXT RRSet, or null when there is none. */
    private List<String> values(String rrset, TxtRecord record) throws AutocertException {
        String what = "reading the TXT records at " + record.name();
        HttpResponse<String> response = http.send(http.request(rrset).GET().build(), what, 404);
        if (response.statusCode() == 404) {
            return null;
        }
        List<String> values = new ArrayList<>();
        for (JSON.Value r : http.parse(response.body(), what).get("rrset").asObject().get("records").asArray()) {
            values.add(TxtValues.unquote(r.asObject().get("value").asString()));
        }
        return values;
    }

    /** Starts the action at {@code path} and waits until it has succeeded. */
    private void act(String path, String body, String what) throws AutocertException {
        JSON action = http.sendJson(http.request(path).POST(ProviderHttp.json(body)).header("Content-Type", "application/json").build(),
                what).get("action").asObject();
        long deadline = System.nanoTime() + ACTION_TIMEOUT.toNanos();
        long pause = 100;
        while (true) {
            String status = action.get("status").asString();
            if (status.equals("success")) {
                return;
            }
            if (status.equals("error")) {
                String detail = action.get("error").optional().map(e -> {
                    JSON error = e.asObject();
                    return error.get("code").optional().map(JSON.Value::asString).orElse("") + ": "
                            + error.get("message").optional().map(JSON.Value::asString).orElse("");
                }).orElse("no reason given");
                throw http.error(what + " failed: action " + action.get("id").asString() + " ended in error (" + http.redact(detail) + ")");
            }
            if (System.nanoTime() > deadline) {
                throw http.error(what + " failed: action " + action.get("id").asString() + " was still " + status + " after "
                        + ACTION_TIMEOUT.toSeconds() + " s");
            }
            http.sleep(Duration.ofMillis(pause), what + " was interrupted");
            pause = Math.min(pause * 2, ACTION_POLL_MAX.toMillis());
            action = http.sendJson(http.request("/actions/" + action.get("id").asString()).GET().build(), what).get("action").asObject();
        }
    }

    /** The zone holding the record: the longest suffix of its name that is a zone of this project. */
    private Zone zone(TxtRecord record) throws AutocertException {
        return zones.find(record.relativeName(), zone -> {
            JSON answer = http.sendJson(http.request("/zones?name=" + ProviderHttp.encode(zone)).GET().build(),
                    "looking up the zone " + zone);
            for (JSON.Value z : answer.get("zones").asArray()) {
                if (z.asObject().get("name").asString().equalsIgnoreCase(zone)) {
                    return Optional.of(new Zone(z.asObject().get("id").asString(), zone));
                }
            }
            return Optional.empty();
        }, tried -> http.error("no zone of this project holds " + record.name() + " (tried " + String.join(", ", tried)
                + "); check that the zone is in the Hetzner Console project whose token this is"));
    }

    /** The RRSet's path: its name relative to the zone, {@code @} for the zone itself. */
    private static String rrsetPath(Zone zone, TxtRecord record) {
        return "/zones/" + zone.id() + "/rrsets/" + ZoneFinder.relative(record.relativeName(), zone.name(), "@") + "/TXT";
    }

    /** Hetzner's error body: {@code {"error":{"code":"unauthorized","message":"…"}}}. */
    private static String errorDetail(String body) {
        JSON error = JSON.parse(body).get("error").asObject();
        String message = error.get("message").optional().map(JSON.Value::asString).orElse(null);
        String code = error.get("code").optional().map(JSON.Value::asString).orElse(null);
        return code != null && message != null ? code + ": " + message : message != null ? message : code;
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    private record Zone(String id, String name) {
    }

    /**
     * Its credentials: the Hetzner Console project's API token, as {@code dns_hetzner_api_token}
     * (certbot-dns-hetzner) or lego's {@code HETZNER_API_TOKEN}; {@code HETZNER_BASE_URL} points
     * elsewhere (a proxy, a test). lego's older {@code HETZNER_API_KEY}, a DNS Console token, is
     * refused with the fix, as that API no longer exists.
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "HETZNER", Duration.ofSeconds(60), Duration.ofSeconds(2), 120);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String token = credentials.get("dns_hetzner_api_token", "HETZNER_API_TOKEN").orElse(null);
            if (token == null) {
                if (credentials.get(null, "HETZNER_API_KEY").isPresent()) {
                    throw credentials.invalid("HETZNER_API_KEY", "is a token of the old DNS Console API (dns.hetzner.com), which Hetzner "
                            + "has retired; move the zone to the Hetzner Console, create an API token with read & write access in "
                            + "its project (Security → API tokens) and give it as HETZNER_API_TOKEN or dns_hetzner_api_token");
                }
                throw credentials.missing(List.of("dns_hetzner_api_token"), List.of("HETZNER_API_TOKEN"));
            }
            return new HetznerProvider(ProviderHttp.baseUrl(credentials, "dns_hetzner_base_url", "HETZNER_BASE_URL", DEFAULT_BASE_URL),
                    token);
        }
    }
}
