package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Against a fake that plays Route 53's documented REST API (API reference, version 2013-04-01):
 * ListHostedZonesByName and ListResourceRecordSets list in order starting at the name asked,
 * ChangeResourceRecordSets applies UPSERT, CREATE and DELETE (which must match the record set
 * exactly, else 400 InvalidChangeBatch) and answers PENDING, GetChange answers INSYNC on the
 * next look. The tests check every request's SigV4 signature against the secret, as Route 53
 * does (403 SignatureDoesNotMatch in the ErrorResponse form otherwise).
 */
class Route53ProviderTest extends HostedProviderContract {

    private static final String KEY_ID = "AKIAIOSFODNN7EXAMPLE";
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static final String NAME = "_acme-challenge.www.example.com.";

    @TempDir
    Path dir;

    /** zone id → record sets by "name type" → [ttl, values...], in Route 53's order (reversed labels). */
    private final Map<String, TreeMap<String, List<String>>> zones = new HashMap<>();
    private final List<String[]> hostedZones = new ArrayList<>(); // id, name, private
    private final AtomicInteger changes = new AtomicInteger();
    private final Map<String, Integer> looks = new HashMap<>();
    private String sessionToken;
    private String expectedKeyId = KEY_ID;
    private String expectedSecret = SECRET;
    /** Runs in the fake before it applies a change batch, holding the zone: another node's change, say. */
    private Runnable beforeChange = () -> { };

    Route53ProviderTest() {
        super(new Route53Provider.Factory(), "AWS_ENDPOINT_URL_ROUTE_53",
                new Registration("route53", "AWS", Duration.ofSeconds(120), Duration.ofSeconds(4), 10));
    }

    @BeforeEach
    void startFake() throws Exception {
        hostedZones.add(new String[] {"ZPRIVATE", "example.com.", "true"});
        hostedZones.add(new String[] {"Z1D633PJN98FT9", "example.com.", "false"});
        hostedZones.add(new String[] {"ZOTHER", "other.org.", "false"});
        zones.put("Z1D633PJN98FT9", new TreeMap<>(Comparator.comparing(Route53ProviderTest::order)));
        zones.get("Z1D633PJN98FT9").put("zzz.example.com. TXT", new ArrayList<>(List.of("300", "\"unrelated\"")));
        api.on("GET", "/2013-04-01/hostedzonesbyname", r -> {
            String from = order(r.param("dnsname").orElse("") + ".");
            StringBuilder xml = new StringBuilder("<ListHostedZonesByNameResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
                    + "<HostedZones>");
            hostedZones.stream().filter(z -> order(z[1]).compareTo(from) >= 0).sorted(Comparator.comparing(z -> order(z[1])))
                    .limit(r.intParam("maxitems", 100)).forEach(z -> xml.append("<HostedZone><Id>/hostedzone/").append(z[0])
                            .append("</Id><Name>").append(z[1]).append("</Name><CallerReference>ref</CallerReference><Config>"
                                    + "<PrivateZone>").append(z[2]).append("</PrivateZone></Config><ResourceRecordSetCount>3"
                                    + "</ResourceRecordSetCount></HostedZone>"));
            return xml(200, xml.append("</HostedZones><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>"
                    + "</ListHostedZonesByNameResponse>").toString());
        });
        api.on("GET", "/2013-04-01/hostedzone/([^/]+)/rrset", r -> {
            TreeMap<String, List<String>> sets = zones.get(r.group(1));
            if (sets == null) {
                return error(404, "NoSuchHostedZone", "No hosted zone found with ID: " + r.group(1));
            }
            StringBuilder xml = new StringBuilder("<ListResourceRecordSetsResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
                    + "<ResourceRecordSets>");
            synchronized (sets) {
                sets.tailMap(r.param("name").orElse("") + " " + r.param("type").orElse("")).entrySet().stream()
                        .limit(r.intParam("maxitems", 100)).forEach(e -> {
                            String[] nameType = e.getKey().split(" ");
                            xml.append("<ResourceRecordSet><Name>").append(nameType[0]).append("</Name><Type>").append(nameType[1])
                                    .append("</Type><TTL>").append(e.getValue().get(0)).append("</TTL><ResourceRecords>");
                            e.getValue().subList(1, e.getValue().size()).forEach(v -> xml.append("<ResourceRecord><Value>").append(v)
                                    .append("</Value></ResourceRecord>"));
                            xml.append("</ResourceRecords></ResourceRecordSet>");
                        });
            }
            return xml(200, xml.append("</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems>"
                    + "</ListResourceRecordSetsResponse>").toString());
        });
        api.on("POST", "/2013-04-01/hostedzone/([^/]+)/rrset", r -> {
            TreeMap<String, List<String>> sets = zones.get(r.group(1));
            NodeList changeList = parse(r.body()).getElementsByTagName("Change");
            synchronized (sets) {
                beforeChange.run();
                // a batch is one transaction: applied to a copy, kept only when every change applies
                TreeMap<String, List<String>> after = new TreeMap<>(sets);
                for (int c = 0; c < changeList.getLength(); c++) {
                    Element change = (Element) changeList.item(c);
                    String action = text(change, "Action");
                    String key = text(change, "Name") + " " + text(change, "Type");
                    List<String> set = new ArrayList<>(List.of(text(change, "TTL")));
                    NodeList values = change.getElementsByTagName("Value");
                    for (int i = 0; i < values.getLength(); i++) {
                        set.add(values.item(i).getTextContent());
                    }
                    String described = "resource record set [name='" + text(change, "Name") + "', type='TXT']";
                    switch (action) {
                        case "UPSERT" -> after.put(key, set);
                        case "CREATE" -> {
                            if (after.containsKey(key)) {
                                return invalidBatch("Tried to create " + described + " but it already exists");
                            }
                            after.put(key, set);
                        }
                        case "DELETE" -> {
                            if (!after.containsKey(key)) {
                                return invalidBatch("Tried to delete " + described + " but it was not found");
                            }
                            if (!set.equals(after.get(key))) {
                                return invalidBatch("Tried to delete " + described + " but the values provided do not match the current values");
                            }
                            after.remove(key);
                        }
                        default -> {
                            return error(400, "InvalidInput", "Invalid XML ; unknown action " + action);
                        }
                    }
                }
                sets.clear();
                sets.putAll(after);
            }
            String id = "C" + changes.incrementAndGet();
            return xml(200, "<ChangeResourceRecordSetsResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeInfo>"
                    + "<Id>/change/" + id + "</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt>"
                    + "</ChangeInfo></ChangeResourceRecordSetsResponse>");
        });
        api.on("GET", "/2013-04-01/change/([^/]+)", r -> {
            int n;
            synchronized (looks) {
                n = looks.merge(r.group(1), 1, Integer::sum);
            }
            return xml(200, "<GetChangeResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeInfo><Id>/change/"
                    + r.group(1) + "</Id><Status>" + (n >= 1 ? "INSYNC" : "PENDING") + "</Status><SubmittedAt>2026-01-01T00:00:00.000Z"
                    + "</SubmittedAt></ChangeInfo></GetChangeResponse>");
        });
    }

    /** Route 53 orders names by their labels from the right: com.example.www. */
    private static String order(String nameAndType) {
        String name = nameAndType.split(" ")[0].toLowerCase();
        List<String> labels = new ArrayList<>(List.of(name.split("\\.")));
        Collections.reverse(labels);
        return String.join(".", labels) + (nameAndType.contains(" ") ? " " + nameAndType.split(" ", 2)[1] : "");
    }

    private static FakeApi.Response xml(int status, String xml) {
        return new FakeApi.Response(status, xml, Map.of("Content-Type", "text/xml"));
    }

    private static FakeApi.Response error(int status, String code, String message) {
        return xml(status, "<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>"
                + code + "</Code><Message>" + message + "</Message></Error><RequestId>a1b2</RequestId></ErrorResponse>");
    }

    private static FakeApi.Response invalidBatch(String message) {
        return xml(400, "<InvalidChangeBatch xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Messages><Message>" + message
                + "</Message></Messages><RequestId>a1b2</RequestId></InvalidChangeBatch>");
    }

    private static Document parse(String xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    /** {@return the actions of the {@code n}th change batch sent, in order} */
    private List<String> actions(int n) throws Exception {
        NodeList list = parse(api.requests("POST", ".*/rrset").get(n).body()).getElementsByTagName("Action");
        List<String> actions = new ArrayList<>();
        for (int i = 0; i < list.getLength(); i++) {
            actions.add(list.item(i).getTextContent());
        }
        return actions;
    }

    private static String text(Element e, String tag) {
        return e.getElementsByTagName(tag).item(0).getTextContent();
    }

    private void checkSignatures() {
        for (FakeApi.Request r : api.requests()) {
            Map<String, String> signed = new LinkedHashMap<>();
            signed.put("host", r.header("Host"));
            signed.put("x-amz-date", r.header("X-Amz-Date"));
            if (r.header("X-Amz-Security-Token") != null) {
                signed.put("x-amz-security-token", r.header("X-Amz-Security-Token"));
            }
            String expected = new AwsSigV4(expectedKeyId, expectedSecret, sessionToken, "us-east-1", "route53")
                    .authorization(r.method(), r.path(), r.query(), signed, r.body().getBytes(StandardCharsets.UTF_8));
            assertEquals(expected, r.header("Authorization"), r.method() + " " + r.path());
            assertTrue(r.header("Authorization").contains("Credential=" + expectedKeyId + "/"), r.header("Authorization"));
            assertTrue(r.header("Authorization").contains("/us-east-1/route53/aws4_request"), r.header("Authorization"));
            assertEquals(sessionToken, r.header("X-Amz-Security-Token"));
        }
        assertTrue(api.unrouted().isEmpty(), "unrouted: " + api.unrouted());
    }

    /** {@return the fake's endpoint, and no shared credentials file} */
    private Map<String, String> atTheFake() {
        return Map.of("AWS_ENDPOINT_URL_ROUTE_53", api.url(), "AWS_SHARED_CREDENTIALS_FILE", dir.resolve("none").toString());
    }

    /** A provider of {@code settings} and, unless they say otherwise, {@link #atTheFake()}, polling GetChange quickly. */
    @Override
    Route53Provider provider(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(atTheFake());
        all.putAll(settings);
        return new Route53Provider.Factory().create(DnsCredentials.of("route53", all), Duration.ofMillis(10), Duration.ofSeconds(5));
    }

    @Override
    Map<String, String> credentials() {
        Map<String, String> all = new HashMap<>(atTheFake());
        all.putAll(Map.of("AWS_ACCESS_KEY_ID", KEY_ID, "AWS_SECRET_ACCESS_KEY", SECRET));
        return all;
    }

    @Override
    String name() {
        return NAME;
    }

    /** {@return the record set at {@code name}: its TTL, then its values as Route 53 keeps them; null when there is none} */
    private List<String> set(String name) {
        return zones.get("Z1D633PJN98FT9").get(name + " TXT");
    }

    @Override
    List<String> values() {
        List<String> set = set(NAME);
        if (set == null) {
            return List.of();
        }
        assertEquals(String.valueOf(ttl()), set.get(0));
        assertTrue(set.size() > 1, "a record set without values is kept");
        for (String value : set.subList(1, set.size())) {
            assertTrue(value.length() > 1 && value.startsWith("\"") && value.endsWith("\""), "not quoted: " + value);
        }
        return set.subList(1, set.size()).stream().map(v -> v.substring(1, v.length() - 1)).toList();
    }

    @Override
    int writes() {
        return api.requests("POST", ".*/rrset").size();
    }

    @Override
    Refusal refusal() {
        api.on("POST", "/2013-04-01/hostedzone/([^/]+)/rrset", r -> error(403, "AccessDenied",
                "User: arn:aws:iam::123456789012:user/dns is not authorized to perform: route53:ChangeResourceRecordSets (key "
                        + SECRET + ")"));
        return new Refusal(provider(credentials()),
                List.of("HTTP 403 (AccessDenied: User: arn:aws:iam::123456789012:user/dns is not authorized"), List.of(SECRET));
    }

    @Override
    String nameInNoZone() {
        return "_acme-challenge.example.net.";
    }

    @Override
    List<String> noZoneSays() {
        return List.of("tried _acme-challenge.example.net, example.net, net", "AWS_HOSTED_ZONE_ID");
    }

    @Override
    List<Missing> missingCredentials() {
        Map<String, String> keyOnly = new HashMap<>(atTheFake());
        keyOnly.put("AWS_ACCESS_KEY_ID", KEY_ID);
        return List.of(new Missing(atTheFake(), "aws_access_key_id", "AWS_ACCESS_KEY_ID"), new Missing(keyOnly, "AWS_SECRET_ACCESS_KEY"));
    }

    @Test
    void presentCreatesTheQuotedValueSignedAndWaitsUntilInSync() throws Exception {
        String value = "MsijOYZxqyjGnFGwhjrhfg-Xgbl5r68WPda0J9EgqqI";
        provider().present(record(value));

        assertEquals(List.of("10", "\"" + value + "\""), set(NAME));
        // the body AwsSigV4Test signs against a value computed elsewhere
        assertEquals(AwsSigV4Test.ROUTE53_CREATE, api.requests("POST", ".*/rrset").get(0).body());
        assertEquals(1, api.requests("GET", "/2013-04-01/change/C1").size());
        checkSignatures();
    }

    @Test
    void aValueAddedMeanwhileByAnotherNodeIsReadAgainAndKept() throws Exception {
        DnsProvider route53 = provider();
        route53.present(record(VALUE_A));
        AtomicInteger batches = new AtomicInteger();
        beforeChange = () -> {
            if (batches.incrementAndGet() == 1) { // another node adds its value between our read and our write
                zones.get("Z1D633PJN98FT9").get(NAME + " TXT").add("\"" + VALUE_C + "\"");
            }
        };

        route53.present(record(VALUE_B));
        assertEquals(List.of(VALUE_A, VALUE_C, VALUE_B), values());
        route53.cleanUp(record(VALUE_A));
        assertEquals(List.of(VALUE_C, VALUE_B), values());
        assertEquals(4, writes(), "the refused batch, its retry, and the clean-up");
        assertTrue(api.requests("GET", ".*/rrset").size() >= 4, "read again after the refusal");
    }

    @Test
    void aValueRemovedMeanwhileIsNotWrittenBack() throws Exception {
        DnsProvider route53 = provider();
        route53.present(record(VALUE_A));
        route53.present(record(VALUE_B));
        AtomicInteger batches = new AtomicInteger();
        beforeChange = () -> {
            if (batches.incrementAndGet() == 1) { // another node cleans up B between our read and our write
                zones.get("Z1D633PJN98FT9").get(NAME + " TXT").remove("\"" + VALUE_B + "\"");
            }
        };

        route53.cleanUp(record(VALUE_A));
        assertEquals(List.of(), values(), "B is not restored from the stale read");
    }

    @Test
    void findsTheLongestPublicZoneAndSkipsThePrivateOne() throws Exception {
        provider().present(record(VALUE_A));

        List<String> asked = api.requests("GET", ".*/hostedzonesbyname").stream().map(r -> r.param("dnsname").orElseThrow()).toList();
        assertEquals(List.of("_acme-challenge.www.example.com", "www.example.com", "example.com"), asked);
        assertTrue(api.requests("GET", "/2013-04-01/hostedzone/ZPRIVATE/.*").isEmpty());
    }

    @Test
    void aGivenHostedZoneIdIsUsedWithoutALookup() throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of("AWS_ACCESS_KEY_ID", KEY_ID, "AWS_SECRET_ACCESS_KEY", SECRET,
                "AWS_HOSTED_ZONE_ID", "/hostedzone/Z1D633PJN98FT9"));
        provider(settings).present(record(VALUE_A));
        assertTrue(api.requests("GET", ".*/hostedzonesbyname").isEmpty());
        assertEquals(List.of("10", "\"" + VALUE_A + "\""), set(NAME));
    }

    @Test
    void eachChangeDeletesTheSetAsReadAndCreatesTheNewOneInOneBatch() throws Exception {
        DnsProvider route53 = provider();
        route53.present(record(VALUE_A));
        route53.present(record(VALUE_B));
        assertEquals(List.of("10", "\"" + VALUE_A + "\"", "\"" + VALUE_B + "\""), set(NAME));
        assertEquals(List.of("DELETE", "CREATE"), actions(1));

        route53.cleanUp(record(VALUE_A));
        assertEquals(List.of("10", "\"" + VALUE_B + "\""), set(NAME));
        assertEquals(List.of("DELETE", "CREATE"), actions(2));

        route53.cleanUp(record(VALUE_B));
        assertEquals(null, set(NAME));
        assertEquals(List.of("DELETE"), actions(3));
        assertEquals(List.of("300", "\"unrelated\""), zones.get("Z1D633PJN98FT9").get("zzz.example.com. TXT"));
        checkSignatures();
    }

    @Test
    void sessionCredentialsSendAndSignTheirToken() throws Exception {
        sessionToken = "FQoGZXIvYXdzEBYaDH1session";
        provider(Map.of("AWS_ACCESS_KEY_ID", KEY_ID, "AWS_SECRET_ACCESS_KEY", SECRET, "AWS_SESSION_TOKEN", sessionToken))
                .present(record(VALUE_A));
        checkSignatures();
    }

    @Test
    void readsAProfileOfTheAwsSharedCredentialsFileAsCertbotsPluginDoes() throws Exception {
        Path shared = dir.resolve("credentials");
        Files.writeString(shared, "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = nope\n\n"
                + "[dns]\naws_access_key_id = AKIDDNS\naws_secret_access_key = dns-secret\n");
        expectedKeyId = "AKIDDNS";
        expectedSecret = "dns-secret";
        provider(Map.of("AWS_SHARED_CREDENTIALS_FILE", shared.toString(), "AWS_PROFILE", "dns")).present(record(VALUE_A));
        checkSignatures();
    }

    @Test
    void theAwsKeyNamesWorkInTheCredentialsFile() throws Exception {
        provider(Map.of("aws_access_key_id", KEY_ID, "aws_secret_access_key", SECRET)).present(record(VALUE_A));
        checkSignatures();
    }

    @Test
    void aWrongSecretIsAnsweredSignatureDoesNotMatch() {
        api.on("GET", "/2013-04-01/hostedzonesbyname", r -> {
            String expected = new AwsSigV4(KEY_ID, SECRET, null, "us-east-1", "route53").authorization(r.method(), r.path(), r.query(),
                    Map.of("host", r.header("Host"), "x-amz-date", r.header("X-Amz-Date")), r.body().getBytes(StandardCharsets.UTF_8));
            return expected.equals(r.header("Authorization")) ? error(500, "Unexpected", "signed with the wrong secret but accepted")
                    : error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
        });
        AutocertException e = assertThrows(AutocertException.class,
                () -> provider(Map.of("AWS_ACCESS_KEY_ID", KEY_ID, "AWS_SECRET_ACCESS_KEY", "wrong-secret-value")).present(record(VALUE_A)));
        assertTrue(e.getMessage().contains("SignatureDoesNotMatch"), e.getMessage());
        assertFalse(e.getMessage().contains("wrong-secret-value"), e.getMessage());
    }

    @Test
    void anInvalidChangeBatchGivesItsMessages() throws Exception {
        api.on("POST", "/2013-04-01/hostedzone/([^/]+)/rrset", r -> invalidBatch("RRSet with DNS name " + NAME + " is not permitted"));
        assertPresentFails(record(VALUE_A), "HTTP 400 (InvalidChangeBatch: RRSet with DNS name");
    }

}
