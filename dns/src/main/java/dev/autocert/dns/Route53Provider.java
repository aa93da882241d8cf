package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * {@code autocert.dns-provider=route53}: Amazon Route 53's REST API (version 2013-04-01), signed
 * with AWS Signature Version 4 (service {@code route53}, region {@code us-east-1}: the API is
 * global). The hosted zone is {@code AWS_HOSTED_ZONE_ID}, or the longest suffix of the record's
 * name that {@code ListHostedZonesByName} finds (public zones, unless {@code
 * AWS_PRIVATE_ZONE=true}). A TXT record set holds every value at its name, so present reads it
 * and writes it back with its value added, and clean up with its value removed (or deletes it
 * when its value was the last); then both wait for the change to be {@code INSYNC}, as lego and
 * Certbot do. Values are sent quoted, as Route 53 requires.
 *
 * <p>Each write is conditional: one change batch that DELETEs the set exactly as it was read and
 * CREATEs the new one (a CREATE alone where there was none). Route 53 applies a batch as one
 * transaction and refuses a DELETE that does not match the set, or a CREATE of a set that exists,
 * with {@code InvalidChangeBatch}; the set was changed meanwhile (by another node, say), so it is
 * read again and the change made anew, up to {@value #ATTEMPTS} times. No value is lost that way.
 * Thread-safe; changes to one name are also serialised within this process.
 */
final class Route53Provider implements DnsProvider {

    private static final Logger LOG = LoggerFactory.getLogger(Route53Provider.class);
    static final String DEFAULT_BASE_URL = "https://route53.amazonaws.com";
    private static final String NAME = "route53";
    private static final String VERSION = "/2013-04-01";
    private static final String XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/";
    /** Certbot polls GetChange every 5 s, up to 10 minutes; Route 53 is usually in sync within a minute. */
    static final Duration SYNC_INTERVAL = Duration.ofSeconds(5);
    static final Duration SYNC_TIMEOUT = Duration.ofMinutes(10);
    private static final NameLocks LOCKS = new NameLocks();
    /** How often a change refused because the set changed meanwhile is made anew. */
    private static final int ATTEMPTS = 4;

    private final AwsSigV4 signer;
    private final String hostedZoneId;
    private final boolean privateZone;
    private final boolean waitForSync;
    private final Duration syncInterval;
    private final Duration syncTimeout;
    private final ProviderHttp http;

    /**
     * @param hostedZoneId the zone to use, or null to look it up
     * @param secrets      the values never to repeat from an error body
     */
    Route53Provider(String baseUrl, AwsSigV4 signer, String hostedZoneId, boolean privateZone, boolean waitForSync,
            Duration syncInterval, Duration syncTimeout, List<String> secrets) {
        this.signer = requireNonNull(signer, "signer");
        this.hostedZoneId = hostedZoneId;
        this.privateZone = privateZone;
        this.waitForSync = waitForSync;
        this.syncInterval = requireNonNull(syncInterval, "syncInterval");
        this.syncTimeout = requireNonNull(syncTimeout, "syncTimeout");
        this.http = new ProviderHttp(NAME, requireNonNull(baseUrl, "baseUrl"), Route53Provider::errorDetail, secrets);
    }

    /** A TXT record set as Route 53 holds it: values quoted, as returned. */
    private record RecordSet(long ttl, List<String> values) {

        boolean holds(String value) {
            return TxtValues.holds(values, value);
        }
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
        String zone = zoneId(record);
        String what = (add ? "adding the TXT value to " : "removing the TXT value from ") + record.name();
        synchronized (LOCKS.of(zone + " " + record.name())) {
            for (int attempt = 1; ; attempt++) {
                Optional<RecordSet> current = recordSet(zone, record);
                if (current.isPresent() && current.get().holds(record.value()) == add || current.isEmpty() && !add) {
                    return; // already there, or already gone
                }
                List<String> values = current.map(RecordSet::values).orElse(List.of());
                List<String> next = add ? TxtValues.adding(values, record.value()) : TxtValues.without(values, record.value());
                List<String> changes = new ArrayList<>();
                // the DELETE names the set exactly as read: the condition the whole batch depends on
                current.ifPresent(c -> changes.add(change("DELETE", record.name(), c.ttl(), c.values())));
                if (!next.isEmpty()) {
                    changes.add(change("CREATE", record.name(), add || current.isEmpty() ? record.ttl() : current.get().ttl(), next));
                }
                if (send(zone, changes, what, attempt < ATTEMPTS)) {
                    return;
                }
                LOG.debug("route53: {} was changed meanwhile, reading it again", record.name());
            }
        }
    }
    /** The hosted zone holding the record: the configured one, or the longest suffix of its name that is one. */
    private String zoneId(TxtRecord record) throws AutocertException {
        if (hostedZoneId != null) {
            return hostedZoneId;
        }
        List<String> candidates = ZoneFinder.suffixes(record.relativeName());
        for (String candidate : candidates) {
            Document answer = get(VERSION + "/hostedzonesbyname?dnsname=" + ProviderHttp.encode(candidate) + "&maxitems=100",
                    "looking up the hosted zone " + candidate);
            for (Element zone : children(answer.getDocumentElement(), "HostedZones", "HostedZone")) {
                boolean isPrivate = Boolean.parseBoolean(text(zone, "Config", "PrivateZone"));
                if (text(zone, "Name").equalsIgnoreCase(candidate + ".") && isPrivate == privateZone) {
                    String id = text(zone, "Id");
                    return id.startsWith("/hostedzone/") ? id.substring("/hostedzone/".length()) : id;
                }
            }
        }
        throw http.error("no " + (privateZone ? "private" : "public") + " hosted zone of "
                + "this account holds " + record.name() + " (tried " + String.join(", ", candidates) + "); check the account, or "
                + "set AWS_HOSTED_ZONE_ID" + (privateZone ? "" : " (or AWS_PRIVATE_ZONE=true for a private zone)"));
    }

    /** The TXT record set at the record's name, if any: the list starts at the name, so the first set must be checked. */
    private Optional<RecordSet> recordSet(String zone, TxtRecord record) throws AutocertException {
        Document answer = get(VERSION + "/hostedzone/" + zone + "/rrset?name=" + ProviderHttp.encode(record.name()) + "&type=TXT&maxitems=1",
                "reading the TXT records at " + record.name());
        for (Element set : children(answer.getDocumentElement(), "ResourceRecordSets", "ResourceRecordSet")) {
            if (text(set, "Name").equalsIgnoreCase(record.name()) && text(set, "Type").equals("TXT")) {
                List<String> values = new ArrayList<>();
                for (Element rr : children(set, "ResourceRecords", "ResourceRecord")) {
                    values.add(text(rr, "Value"));
                }
                String ttl = text(set, "TTL");
                return Optional.of(new RecordSet(ttl.isEmpty() ? record.ttl() : Long.parseLong(ttl), values));
            }
        }
        return Optional.empty();
    }

    /** One {@code Change} of a batch: a TXT record set with its values, quoted as read or made by {@link TxtValues}. */
    private static String change(String action, String name, long ttl, List<String> values) {
        StringBuilder xml = new StringBuilder("<Change><Action>").append(action).append("</Action>")
                .append("<ResourceRecordSet><Name>").append(escape(name)).append("</Name><Type>TXT</Type><TTL>").append(ttl)
                .append("</TTL><ResourceRecords>");
        for (String value : values) {
            xml.append("<ResourceRecord><Value>").append(escape(value)).append("</Value></ResourceRecord>");
        }
        return xml.append("</ResourceRecords></ResourceRecordSet></Change>").toString();
    }

    /** The ChangeResourceRecordSets body of {@code changes}, applied by Route 53 all or none. */
    static String changeBatch(List<String> changes) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"" + XMLNS + "\"><ChangeBatch>"
                + "<Comment>Autocert DNS-01</Comment><Changes>" + String.join("", changes)
                + "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>";
    }

    /**
     * Sends one change batch and waits for it to be in sync. {@return false when Route 53 refused
     * it because the set is not as read (and {@code mayRetry}): a DELETE that does not match, a
     * CREATE of a set that exists}
     */
    private boolean send(String zone, List<String> changes, String what, boolean mayRetry) throws AutocertException {
        byte[] body = changeBatch(changes).getBytes(StandardCharsets.UTF_8);
        URI uri = URI.create(http.base() + VERSION + "/hostedzone/" + zone + "/rrset");
        HttpRequest.Builder request = ProviderHttp.request(uri).header("Content-Type", "application/xml")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        signer.sign("POST", uri, body, Instant.now()).forEach(request::header);
        HttpResponse<String> response = http.exchange(request.build(), what);
        if (response.statusCode() == 400 && mayRetry && isConflict(response.body())) {
            return false;
        }
        if (response.statusCode() / 100 != 2) {
            throw http.failure(what, response);
        }
        Document answer = parse(response.body(), what);
        String changeId = text(answer.getDocumentElement(), "ChangeInfo", "Id");
        String status = text(answer.getDocumentElement(), "ChangeInfo", "Status");
        if (waitForSync && !changeId.isEmpty()) {
            awaitInSync(changeId, status, what);
        }
        return true;
    }

    /**
     * Whether an error body is InvalidChangeBatch for a set that is not as the batch said
     * ("Tried to delete resource record set … but the values provided do not match the current
     * values", "… but it was not found", "Tried to create … but it already exists"), as opposed
     * to a batch Route 53 refuses whatever the set holds.
     */
    private static boolean isConflict(String body) {
        String detail = body == null ? null : errorDetail(body);
        return detail != null && detail.startsWith("InvalidChangeBatch: ") && detail.contains("Tried to ")
                && (detail.contains("do not match") || detail.contains("not found") || detail.contains("already exists"));
    }

    /** Polls GetChange until the change is on every Route 53 name server. */
    private void awaitInSync(String changeId, String status, String what) throws AutocertException {
        String path = changeId.startsWith("/change/") ? changeId : "/change/" + changeId;
        long deadline = System.nanoTime() + syncTimeout.toNanos();
        while (!"INSYNC".equals(status)) {
            if (System.nanoTime() > deadline) {
                throw http.error(what + ": the change " + changeId + " is still " + status
                        + " after " + syncTimeout.toMinutes() + " minutes");
            }
            http.sleep(syncInterval, what + " was interrupted while waiting for " + changeId);
            status = text(get(VERSION + path, "waiting for the change " + changeId).getDocumentElement(), "ChangeInfo", "Status");
        }
        LOG.debug("route53: change {} is INSYNC", changeId);
    }

    private Document get(String pathAndQuery, String what) throws AutocertException {
        URI uri = URI.create(http.base() + pathAndQuery);
        HttpRequest.Builder request = ProviderHttp.request(uri).GET();
        signer.sign("GET", uri, new byte[0], Instant.now()).forEach(request::header);
        return parse(http.send(request.build(), what).body(), what);
    }

    private static Document parse(String xml, String what) throws AutocertException {
        try {
            return builder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        } catch (SAXException | IOException | RuntimeException e) {
            throw new AutocertException("DNS-01 through " + NAME + ": " + what + ": the API answered something that is not XML");
        }
    }

    /** A parser that reads no DTD and no external entity: the answers are plain XML. */
    private static DocumentBuilder builder() {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setExpandEntityReferences(false);
            return factory.newDocumentBuilder();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser cannot be configured", e);
        }
    }

    /** The elements at {@code path} under {@code parent}, by local name, ignoring namespaces. */
    private static List<Element> children(Element parent, String... path) {
        List<Element> current = List.of(parent);
        for (String name : path) {
            List<Element> next = new ArrayList<>();
            for (Element e : current) {
                NodeList nodes = e.getChildNodes();
                for (int i = 0; i < nodes.getLength(); i++) {
                    Node n = nodes.item(i);
                    if (n instanceof Element child && name.equals(localName(child))) {
                        next.add(child);
                    }
                }
            }
            current = next;
        }
        return current;
    }

    private static String text(Element parent, String... path) {
        List<Element> found = children(parent, path);
        return found.isEmpty() ? "" : found.get(0).getTextContent().strip();
    }

    private static String localName(Element e) {
        String name = e.getLocalName() != null ? e.getLocalName() : e.getTagName();
        return name.contains(":") ? name.substring(name.indexOf(':') + 1) : name;
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** Route 53's error: {@code ErrorResponse/Error/Code} and {@code Message}, or {@code InvalidChangeBatch/Messages}. */
    static String errorDetail(String body) {
        Document doc;
        try {
            doc = builder().parse(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
        } catch (SAXException | IOException e) {
            return null;
        }
        Element root = doc.getDocumentElement();
        if (localName(root).equals("InvalidChangeBatch")) {
            List<String> messages = children(root, "Messages", "Message").stream().map(m -> m.getTextContent().strip()).toList();
            return "InvalidChangeBatch: " + String.join("; ", messages);
        }
        String code = text(root, "Error", "Code");
        String message = text(root, "Error", "Message");
        return code.isEmpty() && message.isEmpty() ? null : code + (message.isEmpty() ? "" : ": " + message);
    }

    @Override
    public String toString() {
        return NAME + " (" + http.base() + ", " + signer + (hostedZoneId != null ? ", zone " + hostedZoneId : "") + ")";
    }

    /**
     * Its credentials: lego's (and the AWS tools') {@code AWS_ACCESS_KEY_ID}, {@code
     * AWS_SECRET_ACCESS_KEY} and {@code AWS_SESSION_TOKEN}, in the environment or in the
     * credentials file under those names or as {@code aws_access_key_id}, … (an AWS credentials
     * file with one profile works as it is); otherwise, as Certbot's route53 plugin finds them,
     * the profile {@code AWS_PROFILE} (default {@code default}) of the AWS shared credentials file
     * ({@code AWS_SHARED_CREDENTIALS_FILE}, default {@code ~/.aws/credentials}). {@code
     * AWS_HOSTED_ZONE_ID}, {@code AWS_PRIVATE_ZONE}, {@code AWS_WAIT_FOR_RECORD_SETS_CHANGED} as in
     * lego; {@code AWS_ENDPOINT_URL_ROUTE_53} (or {@code AWS_ENDPOINT_URL}) points elsewhere. lego's
     * defaults: TTL 10 s, propagation timeout 120 s, polling interval 4 s.
     */
    public static final class Factory extends AbstractDnsProviderFactory {

        public Factory() {
            super(NAME, "AWS", Duration.ofSeconds(120), Duration.ofSeconds(4), 10);
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            return create(credentials, SYNC_INTERVAL, SYNC_TIMEOUT);
        }

        /** As {@link #create(DnsCredentials)}, polling GetChange as given (tests). */
        Route53Provider create(DnsCredentials credentials, Duration syncInterval, Duration syncTimeout) {
            Map<String, String> keys = new LinkedHashMap<>();
            credentials.get("aws_access_key_id", "AWS_ACCESS_KEY_ID").ifPresent(v -> keys.put("aws_access_key_id", v));
            credentials.get("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY").ifPresent(v -> keys.put("aws_secret_access_key", v));
            credentials.get("aws_session_token", "AWS_SESSION_TOKEN").ifPresent(v -> keys.put("aws_session_token", v));
            String source = "the credentials";
            if (!keys.containsKey("aws_access_key_id") && !keys.containsKey("aws_secret_access_key")) {
                Path shared = credentials.get(null, "AWS_SHARED_CREDENTIALS_FILE").map(Path::of)
                        .orElse(Path.of(System.getProperty("user.home"), ".aws", "credentials"));
                String profile = credentials.get(null, "AWS_PROFILE").orElse("default");
                keys.putAll(profile(credentials, shared, profile));
                source = shared + " (profile " + profile + ")";
            }
            if (!keys.containsKey("aws_access_key_id")) {
                throw credentials.missing(List.of("aws_access_key_id"), List.of("AWS_ACCESS_KEY_ID (or an AWS shared credentials file)"));
            }
            if (!keys.containsKey("aws_secret_access_key")) {
                throw credentials.invalid("aws_secret_access_key", "is missing beside aws_access_key_id in " + source
                        + "; give it, or AWS_SECRET_ACCESS_KEY in the environment");
            }
            String base = credentials.get("dns_route53_base_url", "AWS_ENDPOINT_URL_ROUTE_53").isPresent()
                    ? ProviderHttp.baseUrl(credentials, "dns_route53_base_url", "AWS_ENDPOINT_URL_ROUTE_53", DEFAULT_BASE_URL)
                    : ProviderHttp.baseUrl(credentials, null, "AWS_ENDPOINT_URL", DEFAULT_BASE_URL);
            String token = keys.get("aws_session_token");
            AwsSigV4 signer = new AwsSigV4(keys.get("aws_access_key_id"), keys.get("aws_secret_access_key"), token, "us-east-1", NAME);
            String zone = credentials.get(null, "AWS_HOSTED_ZONE_ID").map(z -> z.startsWith("/hostedzone/")
                    ? z.substring("/hostedzone/".length()) : z).orElse(null);
            boolean privateZone = bool(credentials, "AWS_PRIVATE_ZONE", false);
            boolean wait = bool(credentials, "AWS_WAIT_FOR_RECORD_SETS_CHANGED", true);
            List<String> secrets = new ArrayList<>(List.of(keys.get("aws_secret_access_key")));
            if (token != null) {
                secrets.add(token);
            }
            return new Route53Provider(base, signer, zone, privateZone, wait, syncInterval, syncTimeout, secrets);
        }

        private static boolean bool(DnsCredentials credentials, String variable, boolean otherwise) {
            return credentials.get(null, variable).map(v -> {
                String b = v.strip().toLowerCase(Locale.ROOT);
                if (!b.equals("true") && !b.equals("false")) {
                    throw credentials.invalid(variable, "is '" + v + "'; expected true or false");
                }
                return b.equals("true");
            }).orElse(otherwise);
        }

        /** One profile of an AWS shared credentials file: {@code [name]} then {@code key = value} lines. */
        private static Map<String, String> profile(DnsCredentials credentials, Path file, String profile) {
            Map<String, String> keys = new LinkedHashMap<>();
            if (!Files.isRegularFile(file)) {
                return keys;
            }
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw credentials.invalid("AWS shared credentials file", "'" + file + "' cannot be read (" + e.getClass().getSimpleName()
                        + "); check that this server's user may read it");
            }
            String section = null;
            for (String line : lines) {
                String l = line.strip();
                if (l.startsWith("[") && l.endsWith("]")) {
                    section = l.substring(1, l.length() - 1).strip();
                } else if (profile.equals(section) && l.indexOf('=') > 0 && !l.startsWith("#") && !l.startsWith(";")) {
                    keys.put(l.substring(0, l.indexOf('=')).strip().toLowerCase(Locale.ROOT), l.substring(l.indexOf('=') + 1).strip());
                }
            }
            return keys;
        }
    }
}
