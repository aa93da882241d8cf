package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code autocert.dns-provider=gcloud}: Google Cloud DNS's API v1, authenticated as a service
 * account: a JWT signed with the account's key (RS256) is traded at its {@code token_uri} for an
 * access token (OAuth 2.0 JWT bearer grant, scope {@code ndev.clouddns.readwrite}), which is kept
 * until shortly before it expires. The managed zone is {@code GCE_ZONE_ID}, or the longest suffix
 * of the record's name that {@code managedZones?dnsName=} finds (public zones, unless {@code
 * GCE_ALLOW_PRIVATE_ZONE=true}). A TXT record set holds every value at its name; a change
 * deletes the set exactly as read and adds it with the value added or removed, so a change made
 * meanwhile by anyone makes Cloud DNS refuse it (409 or 412), and it is read and made again.
 * Then it waits until the change is {@code done}. Values are sent quoted. Thread-safe.
 */
final class GoogleCloudDnsProvider implements DnsProvider {

    private static final Logger LOG = LoggerFactory.getLogger(GoogleCloudDnsProvider.class);
    static final String DEFAULT_BASE_URL = "https://dns.googleapis.com";
    static final String DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
    static final String SCOPE = "https://www.googleapis.com/auth/ndev.clouddns.readwrite";
    private static final String NAME = "gcloud";
    private static final String JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    /** How often a change refused because the record set changed meanwhile is read and made again. */
    private static final int ATTEMPTS = 4;
    /** Cloud DNS applies changes within seconds; lego waits up to 30 s, polling every 3. */
    static final Duration DONE_INTERVAL = Duration.ofSeconds(2);
    static final Duration DONE_TIMEOUT = Duration.ofMinutes(2);
    private static final NameLocks LOCKS = new NameLocks();

    private final ServiceAccount account;
    private final String project;
    private final String zoneName;
    private final boolean allowPrivate;
    private final Duration doneInterval;
    private final Duration doneTimeout;
    private final ProviderHttp http;
    private final ProviderHttp tokens = new ProviderHttp(NAME, null, AccessTokens::errorDetail, List.of());

    /** The fields of a service account key this provider uses; {@link #toString()} leaves out the key. */
    record ServiceAccount(String clientEmail, String privateKeyId, PrivateKey privateKey, String tokenUri, String projectId) {

        @Override
        public String toString() {
            return "service account " + clientEmail;
        }
    }

    /** @param zoneName the managed zone's name, or null to look it up */
    GoogleCloudDnsProvider(String baseUrl, ServiceAccount account, String project, String zoneName, boolean allowPrivate,
            Duration doneInterval, Duration doneTimeout) {
        this.account = requireNonNull(account, "account");
        this.project = project;
        this.zoneName = zoneName;
        this.allowPrivate = allowPrivate;
        this.doneInterval = doneInterval;
        this.doneTimeout = doneTimeout;
        this.http = new ProviderHttp(NAME, requireNonNull(baseUrl, "baseUrl") + "/dns/v1/projects/"
                + ProviderHttp.encode(requireNonNull(project, "project")), GoogleCloudDnsProvider::errorDetail, List.of());
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
        String zone = zone(record);
        String what = (add ? "adding the TXT value to " : "removing the TXT value from ") + record.name();
        synchronized (LOCKS.of(project + " " + zone + " " + record.name())) {
            for (int attempt = 1; ; attempt++) {
                Optional<JSON> current = recordSet(zone, record);
                List<String> rrdatas = current.map(c -> c.get("rrdatas").asArray().stream().map(JSON.Value::asString).toList())
                        .orElse(List.of());
                if (TxtValues.holds(rrdatas, record.value()) == add) {
                    return; // already there, or already gone
                }
                List<String> next = add ? TxtValues.adding(rrdatas, record.value()) : TxtValues.without(rrdatas, record.value());
                JSONBuilder change = new JSONBuilder().put("kind", "dns#change");
                if (!next.isEmpty()) {
                    Map<String, Object> addition = new LinkedHashMap<>();
                    addition.put("kind", "dns#resourceRecordSet");
                    addition.put("name", record.name());
                    addition.put("type", "TXT");
                    addition.put("ttl", add || current.isEmpty() ? record.ttl() : current.get().get("ttl").asInt());
                    addition.put("rrdatas", next);
                    change.put("additions", List.of(addition));
                }
                current.ifPresent(c -> change.put("deletions", List.of(c.toMap()))); // exactly as read: the condition
                HttpResponse<String> response = http.exchange(api("/managedZones/" + ProviderHttp.encode(zone) + "/changes")
                        .header("Content-Type", "application/json").POST(ProviderHttp.json(change.toString())).build(), what);
                int status = response.statusCode();
                if ((status == 409 || status == 412) && attempt < ATTEMPTS) {
                    LOG.debug("gcloud: {} was changed meanwhile ({}), reading it again", record.name(), status);
                    continue;
                }
                if (status / 100 != 2) {
                    throw http.failure(what, response);
                }
                awaitDone(zone, response.body().isBlank() ? JSON.empty() : http.parse(response.body(), what), what);
                return;
            }
        }
    }

    /** The TXT record set at the record's name, as Cloud DNS returns it. */
    private Optional<JSON> recordSet(String zone, TxtRecord record) throws AutocertException {
        JSON answer = http.sendJson(api("/managedZones/" + ProviderHttp.encode(zone) + "/rrsets?name=" + ProviderHttp.encode(record.name())
                + "&type=TXT").GET().build(), "reading the TXT records at " + record.name());
        if (!answer.get("rrsets").isPresent()) {
            return Optional.empty();
        }
        return answer.get("rrsets").asArray().stream().map(JSON.Value::asObject)
                .filter(s -> s.get("name").asString().equalsIgnoreCase(record.name()) && s.get("type").asString().equals("TXT"))
                .findFirst();
    }

    /** The managed zone holding the record: the configured one, or the longest suffix of its name that is one. */
    private String zone(TxtRecord record) throws AutocertException {
        if (zoneName != null) {
            return zoneName;
        }
        List<String> candidates = ZoneFinder.suffixes(record.relativeName());
        for (String candidate : candidates) {
            JSON answer = http.sendJson(api("/managedZones?dnsName=" + ProviderHttp.encode(candidate + ".")).GET().build(),
                    "looking up the managed zone " + candidate);
            if (!answer.get("managedZones").isPresent()) {
                continue;
            }
            for (JSON.Value value : answer.get("managedZones").asArray()) {
                JSON zone = value.asObject();
                boolean isPrivate = zone.get("visibility").optional().map(JSON.Value::asString).orElse("public").equals("private");
                if (zone.get("dnsName").asString().equalsIgnoreCase(candidate + ".") && (allowPrivate || !isPrivate)) {
                    return zone.get("name").asString();
                }
            }
        }
        throw http.error("no " + (allowPrivate ? "" : "public ") + "managed zone of project "
                + project + " holds " + record.name() + " (tried " + String.join(", ", candidates) + "); check the project "
                + "(GCE_PROJECT), or set GCE_ZONE_ID to the zone's name");
    }

    private void awaitDone(String zone, JSON change, String what) throws AutocertException {
        String id = change.get("id").optional().map(JSON.Value::asString).orElse(null);
        String status = change.get("status").optional().map(JSON.Value::asString).orElse("done");
        long deadline = System.nanoTime() + doneTimeout.toNanos();
        while (id != null && !"done".equals(status)) {
            if (System.nanoTime() > deadline) {
                throw http.error(what + ": the change " + id + " is still " + status
                        + " after " + doneTimeout.toSeconds() + " s");
            }
            http.sleep(doneInterval, what + " was interrupted while waiting for change " + id);
            status = http.sendJson(api("/managedZones/" + ProviderHttp.encode(zone) + "/changes/" + ProviderHttp.encode(id)).GET().build(),
                    "waiting for the change " + id).get("status").asString();
        }
    }

    private HttpRequest.Builder api(String path) throws AutocertException {
        return http.request(path).header("Authorization", "Bearer " + token());
    }

    /** An access token for the service account: a signed JWT traded at its token endpoint (the OAuth 2.0 JWT bearer grant). */
    private String token() throws AutocertException {
        return AccessTokens.get(account.clientEmail() + " " + account.privateKeyId() + " " + account.tokenUri(),
                account.privateKey().getEncoded(), tokens,
                URI.create(account.tokenUri()), now -> "grant_type=" + ProviderHttp.encode(JWT_BEARER) + "&assertion=" + jwt(now),
                "getting an access token for the " + account);
    }

    /** The signed JWT of the bearer grant (RFC 7523), valid for the hour Google allows at most. */
    private String jwt(Instant now) throws AutocertException {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        JSONBuilder header = new JSONBuilder().put("alg", "RS256").put("typ", "JWT");
        if (account.privateKeyId() != null) {
            header.put("kid", account.privateKeyId());
        }
        String claims = new JSONBuilder().put("iss", account.clientEmail()).put("scope", SCOPE).put("aud", account.tokenUri())
                .put("iat", now.getEpochSecond()).put("exp", now.getEpochSecond() + 3600).toString();
        String input = b64.encodeToString(header.toString().getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        try {
            Signature rs256 = Signature.getInstance("SHA256withRSA");
            rs256.initSign(account.privateKey());
            rs256.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + b64.encodeToString(rs256.sign());
        } catch (GeneralSecurityException e) {
            throw http.error("the " + account + "'s key cannot sign ("
                    + e.getClass().getSimpleName() + "); check that private_key is the RSA key Google issued");
        }
    }

    /** Google's error: {@code error.message}, and the first {@code errors[].reason}. */
    private static String errorDetail(String body) {
        JSON error = JSON.parse(body).get("error").asObject();
        String message = error.get("message").optional().map(JSON.Value::asString).orElse("");
        String reason = error.get("errors").optional().map(JSON.Value::asArray).filter(a -> !a.isEmpty())
                .map(a -> a.get(0).asObject().get("reason").optional().map(JSON.Value::asString).orElse("")).orElse("");
        return reason.isEmpty() ? message : reason + ": " + message;
    }

    @Override
    public String toString() {
        return NAME + " (project " + project + ", " + account + ")";
    }

    /**
     * Its credentials: the service account's JSON key, named by lego's {@code
     * GCE_SERVICE_ACCOUNT_FILE} (or held in {@code GCE_SERVICE_ACCOUNT}), by Certbot's {@code
     * dns_google_credentials} in the credentials file, or by {@code GOOGLE_APPLICATION_CREDENTIALS};
     * the project, {@code GCE_PROJECT} or {@code dns_google_project}, else the key's {@code
     * project_id}. {@code GCE_ZONE_ID}, {@code GCE_ALLOW_PRIVATE_ZONE} as in lego; {@code
     * GCE_BASE_URL} points elsewhere (the token endpoint is the key's {@code token_uri}). lego's
     * defaults: TTL 120 s, propagation timeout 180 s, polling interval 5 s.
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "GCE", Duration.ofSeconds(180), Duration.ofSeconds(5), 120);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            return create(credentials, DONE_INTERVAL, DONE_TIMEOUT);
        }

        /** As {@link #create(DnsCredentials)}, polling changes as given (tests). */
        GoogleCloudDnsProvider create(DnsCredentials credentials, Duration doneInterval, Duration doneTimeout) {
            String json;
            String source;
            Optional<String> content = credentials.get(null, "GCE_SERVICE_ACCOUNT");
            if (content.isPresent()) {
                // also what GCE_SERVICE_ACCOUNT_FILE, lego's _FILE form of it, names
                json = content.get();
                source = "GCE_SERVICE_ACCOUNT";
            } else {
                String file = credentials.get("dns_google_credentials", null)
                        .or(() -> credentials.get(null, "GOOGLE_APPLICATION_CREDENTIALS"))
                        .orElseThrow(() -> credentials.missing(List.of("dns_google_credentials (the service account's JSON key file)"),
                                List.of("GCE_SERVICE_ACCOUNT_FILE", "GCE_SERVICE_ACCOUNT", "GOOGLE_APPLICATION_CREDENTIALS")));
                source = file;
                try {
                    json = Files.readString(Path.of(file), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw credentials.invalid("service account key file", "'" + file + "' cannot be read (" + e.getClass().getSimpleName()
                            + "); check the path and that this server's user may read it");
                }
            }
            ServiceAccount account = serviceAccount(credentials, json, source);
            String project = credentials.get("dns_google_project", "GCE_PROJECT").or(() -> Optional.ofNullable(account.projectId()))
                    .orElseThrow(() -> credentials.missing(List.of("dns_google_project"), List.of("GCE_PROJECT")));
            String base = ProviderHttp.baseUrl(credentials, "dns_google_base_url", "GCE_BASE_URL", DEFAULT_BASE_URL);
            String zone = credentials.get(null, "GCE_ZONE_ID").orElse(null);
            boolean allowPrivate = credentials.get(null, "GCE_ALLOW_PRIVATE_ZONE").map(v -> v.strip().equalsIgnoreCase("true")).orElse(false);
            return new GoogleCloudDnsProvider(base, account, project, zone, allowPrivate, doneInterval, doneTimeout);
        }

        /** Reads a service account key; its problems are named, never quoted. */
        static ServiceAccount serviceAccount(DnsCredentials credentials, String json, String source) {
            JSON key;
            try {
                key = JSON.parse(json);
            } catch (RuntimeException e) {
                throw credentials.invalid("service account key (" + source + ")", "is not JSON; download the key again from the Google "
                        + "Cloud console (IAM, Service accounts, Keys, JSON)");
            }
            String type = key.get("type").optional().map(JSON.Value::asString).orElse("");
            if (!type.equals("service_account")) {
                throw credentials.invalid("service account key (" + source + ")", "is of type '" + type + "', not service_account; "
                        + "give a service account's JSON key");
            }
            String email = key.get("client_email").optional().map(JSON.Value::asString).orElse(null);
            String pem = key.get("private_key").optional().map(JSON.Value::asString).orElse(null);
            if (email == null || pem == null) {
                throw credentials.invalid("service account key (" + source + ")", "has no client_email or private_key");
            }
            PrivateKey privateKey;
            try {
                String base64 = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
                privateKey = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw credentials.invalid("service account key (" + source + ")", "has a private_key that is not a PEM PKCS#8 RSA key");
            }
            String tokenUri = key.get("token_uri").optional().map(JSON.Value::asString).orElse(DEFAULT_TOKEN_URI);
            return new ServiceAccount(email, key.get("private_key_id").optional().map(JSON.Value::asString).orElse(null), privateKey,
                    tokenUri, key.get("project_id").optional().map(JSON.Value::asString).orElse(null));
        }
    }
}
