package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code autocert.dns-provider=azuredns}: Azure DNS through Azure Resource Manager (record sets,
 * {@code api-version=2018-05-01}), authenticated as a service principal: client credentials
 * traded at Microsoft Entra ID's token endpoint for an access token, kept until shortly before
 * it expires. The zone is {@code AZURE_ZONE_NAME} in {@code AZURE_RESOURCE_GROUP}, a zone mapping
 * of certbot-dns-azure ({@code dns_azure_zone1 = example.com:/subscriptions/…/resourceGroups/…}),
 * or the longest suffix of the record's name among the resource group's zones. A TXT record set
 * holds every value at its name: present reads it with its {@code etag} and PUTs it with its
 * value added, {@code If-Match} that etag ({@code If-None-Match: *} when new); clean up PUTs the
 * other values, or DELETEs the set when its value was the last, also {@code If-Match}. A change
 * made meanwhile by anyone makes Azure answer 412, and it is read and made again. Thread-safe.
 */
final class AzureDnsProvider implements DnsProvider {

    private static final Logger LOG = LoggerFactory.getLogger(AzureDnsProvider.class);
    private static final String NAME = "azuredns";
    static final String API_VERSION = "2018-05-01";
    /** How often a change refused because the record set changed meanwhile (412) is read and made again. */
    private static final int ATTEMPTS = 4;
    private static final NameLocks LOCKS = new NameLocks();

    /** Azure's clouds: where to log in, and where Resource Manager is. */
    enum Cloud {
        PUBLIC("https://login.microsoftonline.com", "https://management.azure.com"),
        USGOVERNMENT("https://login.microsoftonline.us", "https://management.usgovcloudapi.net"),
        CHINA("https://login.chinacloudapi.cn", "https://management.chinacloudapi.cn");

        final String authority;
        final String management;

        Cloud(String authority, String management) {
            this.authority = authority;
            this.management = management;
        }
    }

    /** Where zones live: {@code /subscriptions/S/resourceGroups/G}, and the zone's name when known. */
    record Target(String resourceGroup, String zone) {
    }

    /** The service principal; {@link #toString()} leaves out the secret. */
    record Principal(String tenantId, String clientId, String clientSecret) {

        @Override
        public String toString() {
            return "service principal " + clientId + " (tenant " + tenantId + ")";
        }
    }

    private final String management;
    private final String authority;
    private final Principal principal;
    private final List<Target> targets;
    private final ProviderHttp http;
    private final ProviderHttp tokens;

    /**
     * @param management the Resource Manager base URL
     * @param authority  the token endpoint's host, as {@code https://login.microsoftonline.com}
     * @param targets    the resource groups and zones to look in, most specific first
     */
    AzureDnsProvider(String management, String authority, Principal principal, List<Target> targets) {
        this.management = requireNonNull(management, "management");
        this.authority = requireNonNull(authority, "authority");
        this.principal = requireNonNull(principal, "principal");
        this.targets = List.copyOf(targets);
        List<String> secrets = List.of(principal.clientSecret());
        this.http = new ProviderHttp(NAME, null, AzureDnsProvider::errorDetail, secrets);
        this.tokens = new ProviderHttp(NAME, null, AccessTokens::errorDetail, secrets);
    }

    @Override
    public void present(TxtRecord record) throws AutocertException {
        change(record, true);
    }

    @Override
    public void cleanUp(TxtRecord record) throws AutocertException {
        change(record, false);
    }

    private void change(TxtRecord record, boolean add) throws AutocertException {
        Target target = zone(record);
        String url = management + target.resourceGroup() + "/providers/Microsoft.Network/dnsZones/" + target.zone() + "/TXT/"
                + ZoneFinder.relative(record.relativeName(), target.zone(), "@") + "?api-version=" + API_VERSION;
        String what = (add ? "adding the TXT value to " : "removing the TXT value from ") + record.name();
        synchronized (LOCKS.of(url)) {
            for (int attempt = 1; ; attempt++) {
                HttpResponse<String> read = http.exchange(arm(url).GET().build(), "reading the TXT records at " + record.name());
                Optional<JSON> current = Optional.empty();
                if (read.statusCode() / 100 == 2) {
                    current = Optional.of(http.parse(read.body(), "reading the TXT records at " + record.name()));
                } else if (read.statusCode() != 404) {
                    throw http.failure("reading the TXT records at " + record.name(), read);
                }
                List<Map<String, Object>> records = new ArrayList<>();
                boolean holds = false;
                if (current.isPresent() && current.get().get("properties").asObject().get("TXTRecords").isPresent()) {
                    for (JSON.Value txt : current.get().get("properties").asObject().get("TXTRecords").asArray()) {
                        String value = String.join("", txt.asObject().get("value").asArray().stream().map(JSON.Value::asString).toList());
                        if (value.equals(record.value())) {
                            holds = true;
                        } else {
                            records.add(txt.asObject().toMap()); // others, exactly as read
                        }
                    }
                }
                if (holds == add) {
                    return; // already there, or already gone
                }
                String etag = current.flatMap(c -> c.get("etag").optional()).map(JSON.Value::asString).orElse(null);
                HttpRequest.Builder write = arm(url);
                if (etag != null) {
                    write.header("If-Match", etag);
                } else {
                    write.header("If-None-Match", "*");
                }
                if (add) {
                    records.add(Map.of("value", List.of(record.value())));
                }
                if (records.isEmpty()) {
                    write.DELETE();
                } else {
                    int ttl = add || current.isEmpty() ? record.ttl()
                            : current.get().get("properties").asObject().get("TTL").optional().map(JSON.Value::asInt).orElse(record.ttl());
                    Map<String, Object> properties = new LinkedHashMap<>();
                    properties.put("TTL", ttl);
                    properties.put("TXTRecords", records);
                    write.header("Content-Type", "application/json")
                            .PUT(ProviderHttp.json(new JSONBuilder().put("properties", properties).toString()));
                }
                HttpResponse<String> response = http.exchange(write.build(), what);
                if (response.statusCode() == 412 && attempt < ATTEMPTS) {
                    LOG.debug("azuredns: {} was changed meanwhile, reading it again", record.name());
                    continue;
                }
                if (response.statusCode() / 100 != 2) {
                    throw http.failure(what, response);
                }
                return;
            }
        }
    }

    /** The zone holding the record: a configured one, else the longest suffix of its name among the resource groups' zones. */
    private Target zone(TxtRecord record) throws AutocertException {
        String name = record.relativeName();
        Optional<Target> known = targets.stream().filter(t -> t.zone() != null && (name.equals(t.zone()) || name.endsWith("." + t.zone())))
                .max(Comparator.comparingInt(t -> t.zone().length()));
        if (known.isPresent()) {
            return known.get();
        }
        List<String> seen = new ArrayList<>();
        for (Target target : targets.stream().filter(t -> t.zone() == null).toList()) {
            String url = management + target.resourceGroup() + "/providers/Microsoft.Network/dnsZones?api-version=" + API_VERSION;
            while (url != null) {
                JSON page = http.sendJson(arm(url).GET().build(), "listing the DNS zones of " + target.resourceGroup());
                for (JSON.Value zone : page.get("value").asArray()) {
                    String zoneName = zone.asObject().get("name").asString().toLowerCase(Locale.ROOT);
                    seen.add(zoneName);
                    if (name.equals(zoneName) || name.endsWith("." + zoneName)) {
                        if (known.isEmpty() || known.get().zone().length() < zoneName.length()) {
                            known = Optional.of(new Target(target.resourceGroup(), zoneName));
                        }
                    }
                }
                url = page.get("nextLink").optional().map(JSON.Value::asString).orElse(null);
            }
        }
        return known.orElseThrow(() -> http.error("no DNS zone holds " + record.name()
                + " (zones seen: " + (seen.isEmpty() ? "none" : String.join(", ", seen)) + "); check AZURE_SUBSCRIPTION_ID and "
                + "AZURE_RESOURCE_GROUP, or set AZURE_ZONE_NAME"));
    }

    private HttpRequest.Builder arm(String url) throws AutocertException {
        return ProviderHttp.request(URI.create(url)).header("Authorization", "Bearer " + token()).header("Accept", "application/json");
    }

    /** An access token for Resource Manager (client credentials grant, Microsoft identity platform v2.0). */
    private String token() throws AutocertException {
        String scope = management + "/.default";
        return AccessTokens.get(authority + " " + principal.tenantId() + " " + principal.clientId() + " " + scope,
                principal.clientSecret().getBytes(StandardCharsets.UTF_8), tokens,
                URI.create(authority + "/" + ProviderHttp.encode(principal.tenantId()) + "/oauth2/v2.0/token"),
                now -> "grant_type=client_credentials&client_id=" + ProviderHttp.encode(principal.clientId()) + "&client_secret="
                        + ProviderHttp.encode(principal.clientSecret()) + "&scope=" + ProviderHttp.encode(scope),
                "getting an access token for the " + principal);
    }

    /** Resource Manager's error: {@code error.code} and {@code error.message}. */
    private static String errorDetail(String body) {
        JSON error = JSON.parse(body).get("error").asObject();
        String code = error.get("code").optional().map(JSON.Value::asString).orElse("");
        String message = error.get("message").optional().map(JSON.Value::asString).orElse("");
        return code.isEmpty() ? message : code + ": " + message;
    }

    @Override
    public String toString() {
        return NAME + " (" + principal + ")";
    }

    /**
     * Its credentials: lego's {@code AZURE_CLIENT_ID}, {@code AZURE_CLIENT_SECRET}, {@code
     * AZURE_TENANT_ID} (certbot-dns-azure's {@code dns_azure_sp_client_id}, {@code
     * dns_azure_sp_client_secret}, {@code dns_azure_tenant_id}); where the zones are, {@code
     * AZURE_SUBSCRIPTION_ID} and {@code AZURE_RESOURCE_GROUP} (with {@code AZURE_ZONE_NAME}), or
     * certbot-dns-azure's {@code dns_azure_zone1}, {@code dns_azure_zone2}, …; {@code
     * AZURE_ENVIRONMENT} ({@code public}, {@code usgovernment}, {@code china}). {@code
     * AZURE_BASE_URL} and {@code AZURE_AUTHORITY_HOST} point elsewhere. lego's defaults: TTL 60 s,
     * propagation timeout 120 s, polling interval 2 s.
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        private static final int MAX_ZONE_MAPPINGS = 100;

        public Factory() {
            super(NAME, "AZURE", Duration.ofSeconds(120), Duration.ofSeconds(2), 60);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            String clientId = credentials.require("dns_azure_sp_client_id", "AZURE_CLIENT_ID");
            String secret = credentials.require("dns_azure_sp_client_secret", "AZURE_CLIENT_SECRET");
            String tenant = credentials.require("dns_azure_tenant_id", "AZURE_TENANT_ID");
            if (credentials.get(null, "AZURE_PRIVATE_ZONE").map(v -> v.strip().equalsIgnoreCase("true")).orElse(false)) {
                throw credentials.invalid("AZURE_PRIVATE_ZONE", "is true, but Azure Private DNS zones are not supported (a public CA "
                        + "cannot query them); use the public zone");
            }
            Cloud cloud = cloud(credentials);
            String management = ProviderHttp.baseUrl(credentials, "dns_azure_base_url", "AZURE_BASE_URL", cloud.management);
            String authority = ProviderHttp.baseUrl(credentials, null, "AZURE_AUTHORITY_HOST", cloud.authority);
            List<Target> targets = new ArrayList<>();
            for (int i = 1; i <= MAX_ZONE_MAPPINGS; i++) {
                String key = "dns_azure_zone" + i;
                Optional<String> mapping = credentials.get(key, null);
                if (mapping.isEmpty()) {
                    continue;
                }
                int colon = mapping.get().indexOf(':');
                String path = colon < 0 ? "" : mapping.get().substring(colon + 1).strip();
                if (colon <= 0 || !path.matches("/subscriptions/[^/]+/resourceGroups/[^/]+/?")) {
                    throw credentials.invalid(key, "is '" + mapping.get() + "'; expected ZONE:/subscriptions/SUBSCRIPTION/resourceGroups/GROUP, "
                            + "such as example.com:/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/dns");
                }
                targets.add(new Target(path.replaceAll("/$", ""), mapping.get().substring(0, colon).strip().toLowerCase(Locale.ROOT)
                        .replaceAll("\\.$", "")));
            }
            Optional<String> subscription = credentials.get("dns_azure_subscription_id", "AZURE_SUBSCRIPTION_ID");
            Optional<String> group = credentials.get("dns_azure_resource_group", "AZURE_RESOURCE_GROUP");
            if (subscription.isPresent() && group.isPresent()) {
                String resourceGroup = "/subscriptions/" + ProviderHttp.encode(subscription.get()) + "/resourceGroups/"
                        + ProviderHttp.encode(group.get());
                targets.add(new Target(resourceGroup, credentials.get(null, "AZURE_ZONE_NAME")
                        .map(z -> z.strip().toLowerCase(Locale.ROOT).replaceAll("\\.$", "")).orElse(null)));
            } else if (targets.isEmpty()) {
                throw subscription.isEmpty()
                        ? credentials.missing(List.of("dns_azure_subscription_id", "dns_azure_zone1"), List.of("AZURE_SUBSCRIPTION_ID"))
                        : credentials.missing(List.of("dns_azure_resource_group", "dns_azure_zone1"), List.of("AZURE_RESOURCE_GROUP"));
            }
            return new AzureDnsProvider(management, authority, new Principal(tenant, clientId, secret), targets);
        }

        private static Cloud cloud(DnsCredentials credentials) {
            String name = credentials.get("dns_azure_environment", "AZURE_ENVIRONMENT").orElse("public").strip().toLowerCase(Locale.ROOT);
            return switch (name) {
                case "public", "azurepubliccloud", "azurecloud" -> Cloud.PUBLIC;
                case "usgovernment", "azureusgovernmentcloud", "azureusgovernment" -> Cloud.USGOVERNMENT;
                case "china", "azurechinacloud" -> Cloud.CHINA;
                default -> throw credentials.invalid("environment (dns_azure_environment, AZURE_ENVIRONMENT)",
                        "is '" + name + "'; expected public, usgovernment or china");
            };
        }
    }
}
