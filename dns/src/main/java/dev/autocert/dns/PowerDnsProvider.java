package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code autocert.dns-provider=powerdns}: the HTTP API (v1) of the PowerDNS Authoritative
 * Server, 4.0 or later, where a name's TXT records are one RRset. The zone is the longest suffix
 * of the record's name that {@code GET …/zones?zone=} finds; present reads the zone's TXT RRset
 * at the name and writes it back with its value added ({@code PATCH} with {@code changetype
 * REPLACE}, keeping the other records, their {@code disabled} flags and the RRset's TTL); clean up
 * writes it back without its value, or deletes the RRset when nothing else is left. The API has
 * no conditional writes, so this read-modify-write is serialised per name within the process.
 * A {@code Master} (primary) zone is sent a NOTIFY afterwards, so its secondaries fetch the change.
 * Authenticates with {@code X-API-Key}. TXT content is sent quoted, as PowerDNS requires.
 *
 * <p>Thread-safe.
 */
final class PowerDnsProvider implements DnsProvider {

    private static final Logger LOG = LoggerFactory.getLogger(PowerDnsProvider.class);
    private static final String NAME = "powerdns";
    private static final NameLocks LOCKS = new NameLocks();

    private final ProviderHttp http;
    private final ZoneFinder<Zone> zones = new ZoneFinder<>();

    /**
     * @param apiUrl the server's address, {@code http://pdns.example:8081}
     * @param server the server id in API paths, {@code localhost} unless configured otherwise
     */
    PowerDnsProvider(String apiUrl, String server, String apiKey) {
        this.http = new ProviderHttp(NAME, requireNonNull(apiUrl, "apiUrl").replaceFirst("/$", "") + "/api/v1/servers/"
                + requireNonNull(server, "server"), PowerDnsProvider::errorDetail, List.of(requireNonNull(apiKey, "apiKey")),
                "X-API-Key", apiKey);
    }

    @Override
    public void present(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            Zone zone = zone(record);
            Rrset rrset = rrset(zone, record);
            if (TxtValues.holds(rrset.contents().keySet(), record.value())) {
                return;
            }
            Map<String, Boolean> contents = new LinkedHashMap<>(rrset.contents());
            contents.put(TxtValues.quote(record.value()), false);
            replace(zone, record, rrset.ttl() > 0 ? rrset.ttl() : record.ttl(), contents, "adding the TXT record " + record.name());
        }
    }

    @Override
    public void cleanUp(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            Zone zone = zone(record);
            Rrset rrset = rrset(zone, record);
            Map<String, Boolean> contents = new LinkedHashMap<>(rrset.contents());
            if (contents.keySet().removeIf(c -> TxtValues.unquote(c).equals(record.value()))) {
                replace(zone, record, rrset.ttl(), contents, "removing the TXT record " + record.name());
            }
        }
    }

    /** Writes the TXT RRset at the record's name: {@code contents} (quoted, each with its {@code disabled} flag), or none. */
    private void replace(Zone zone, TxtRecord record, int ttl, Map<String, Boolean> contents, String what) throws AutocertException {
        JSONBuilder rrset = new JSONBuilder().put("name", record.name()).put("type", "TXT");
        if (contents.isEmpty()) {
            rrset.put("changetype", "DELETE");
        } else {
            List<Map<String, Object>> records = new ArrayList<>();
            contents.forEach((content, disabled) -> records.add(Map.of("content", content, "disabled", disabled)));
            rrset.put("changetype", "REPLACE").put("ttl", ttl).array("records", records);
        }
        String body = new JSONBuilder().array("rrsets", List.of(rrset.toMap())).toString();
        http.send(http.request("/zones/" + zone.id()).method("PATCH", ProviderHttp.json(body)).header("Content-Type", "application/json")
                .build(), what);
        if (zone.primary()) {
            // best effort: the change is made; secondaries also poll the SOA serial on their own
            try {
                http.exchange(http.request("/zones/" + zone.id() + "/notify").PUT(HttpRequest.BodyPublishers.noBody()).build(),
                        "notifying the secondaries of " + zone.name());
            } catch (AutocertException e) {
                LOG.debug("powerdns: {}", e.getMessage());
            }
        }
    }

    /** The zone's TXT RRset at the record's name; empty (TTL 0) when there is none. */
    private Rrset rrset(Zone zone, TxtRecord record) throws AutocertException {
        // rrset_name and rrset_type narrow the answer from PowerDNS 4.9 on; older versions send the whole zone
        JSON answer = http.sendJson(http.request("/zones/" + zone.id() + "?rrset_name=" + ProviderHttp.encode(record.name())
                + "&rrset_type=TXT").GET().build(), "reading the TXT records at " + record.name());
        for (JSON.Value value : answer.get("rrsets").asArray()) {
            JSON r = value.asObject();
            if (r.get("type").asString().equals("TXT") && r.get("name").asString().toLowerCase(Locale.ROOT).equals(record.name())) {
                Map<String, Boolean> contents = new LinkedHashMap<>();
                for (JSON.Value rr : r.get("records").asArray()) {
                    contents.put(rr.asObject().get("content").asString(),
                            rr.asObject().get("disabled").optional().map(JSON.Value::asBoolean).orElse(false));
                }
                return new Rrset(r.get("ttl").optional().map(JSON.Value::asInt).orElse(0), contents);
            }
        }
        return new Rrset(0, Map.of());
    }

    /** The zone holding the record: the longest suffix of its name that is a zone of this server. */
    private Zone zone(TxtRecord record) throws AutocertException {
        return zones.find(record.relativeName(), candidate -> {
            String name = candidate + ".";
            String what = "looking up the zone " + name;
            for (JSON.Value z : http.parseValue(http.send(http.request("/zones?zone=" + ProviderHttp.encode(name)).GET().build(), what)
                    .body(), what).asArray()) {
                JSON zone = z.asObject();
                if (zone.get("name").asString().equalsIgnoreCase(name)) {
                    String kind = zone.get("kind").optional().map(JSON.Value::asString).orElse("");
                    return Optional.of(new Zone(zone.get("id").asString(), name, kind.equalsIgnoreCase("Master")
                            || kind.equalsIgnoreCase("Primary")));
                }
            }
            return Optional.empty();
        }, tried -> http.error("no zone of this server holds " + record.name() + " (tried " + tried.stream().map(zone -> zone + ".")
                .collect(Collectors.joining(", ")) + "); create the zone (pdnsutil create-zone), or check PDNS_SERVER_NAME"));
    }

    /** PowerDNS's error body: {@code {"error":"Could not find domain 'example.org.'"}}. */
    private static String errorDetail(String body) {
        return JSON.parse(body).get("error").optional().map(JSON.Value::asString).orElse(null);
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ")";
    }

    /**
     * @param id      the zone's id in API paths ({@code example.org.}, with special characters encoded by PowerDNS)
     * @param primary whether its kind is {@code Master}: secondaries are notified of changes
     */
    private record Zone(String id, String name, boolean primary) {
    }

    private record Rrset(int ttl, Map<String, Boolean> contents) {
    }

    /**
     * Its credentials: lego's {@code PDNS_API_URL} and {@code PDNS_API_KEY} (and {@code
     * PDNS_SERVER_NAME}, {@code localhost} unless set), or the INI keys of certbot-dns-powerdns
     * ({@code dns_powerdns_api_url}, {@code dns_powerdns_api_key}) or certbot-dns-pdns ({@code
     * dns_pdns_endpoint}, {@code dns_pdns_api_key}, {@code dns_pdns_server_id}).
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "PDNS", Duration.ofSeconds(120), Duration.ofSeconds(2), 120);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String url = credentials.get("dns_powerdns_api_url", "PDNS_API_URL").or(() -> credentials.get("dns_pdns_endpoint", null))
                    .orElseThrow(() -> credentials.missing(List.of("dns_powerdns_api_url (or dns_pdns_endpoint)"), List.of("PDNS_API_URL")));
            String key = credentials.get("dns_powerdns_api_key", "PDNS_API_KEY").or(() -> credentials.get("dns_pdns_api_key", null))
                    .orElseThrow(() -> credentials.missing(List.of("dns_powerdns_api_key (or dns_pdns_api_key)"), List.of("PDNS_API_KEY")));
            String server = credentials.get("dns_pdns_server_id", "PDNS_SERVER_NAME").orElse("localhost");
            if (!ProviderHttp.isHttpUrl(url)) {
                throw credentials.invalid("dns_powerdns_api_url (PDNS_API_URL)", "is '" + url
                        + "'; expected the API's http or https URL, such as http://127.0.0.1:8081");
            }
            if (!server.matches("[A-Za-z0-9._-]+")) {
                throw credentials.invalid("dns_pdns_server_id (PDNS_SERVER_NAME)", "is '" + server + "'; expected a server id such as localhost");
            }
            // the API's address; a URL given down to /api or /api/v1 (as some tools write it) means the same
            String address = url.replaceFirst("/$", "").replaceFirst("/api(/v1)?$", "");
            return new PowerDnsProvider(address, server, key);
        }
    }
}
