package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Against AWS's published Signature Version 4 test suite (2015-08-30 edition: access key
 * {@code AKIDEXAMPLE}, region us-east-1, service {@code service}, host example.amazonaws.com),
 * and one Route 53 request whose expected value was computed by a separate implementation of
 * the algorithm (which reproduces every suite vector here), never by this code.
 */
class AwsSigV4Test {

    private static final Map<String, String> SUITE_HEADERS = Map.of("Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z");
    private static final String UNRESERVED = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    /** The suite's post-sts-token session token. */
    private static final String STS_TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPf"
            + "IeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8"
            + "Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    private static final AwsSigV4 EXAMPLE = new AwsSigV4("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null, "us-east-1",
            "service");
    private static final String CREDENTIAL = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=";

    @Test
    void signsGetVanilla() {
        assertEquals(CREDENTIAL + "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                EXAMPLE.authorization("GET", "/", null, Map.of("Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"),
                        new byte[0]));
    }

    @Test
    void sortsTheQueryAsInGetVanillaQueryOrderKeyCase() {
        assertEquals(CREDENTIAL + "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
                EXAMPLE.authorization("GET", "/", "Param2=value2&Param1=value1",
                        Map.of("Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"), new byte[0]));
    }

    @Test
    void signsARequestToAUriWithTheHeadersTheJdkSends() {
        Map<String, String> headers = EXAMPLE.sign("GET", URI.create("https://example.amazonaws.com/"), new byte[0],
                Instant.parse("2015-08-30T12:36:00Z"));
        assertEquals("20150830T123600Z", headers.get("X-Amz-Date"));
        assertEquals(CREDENTIAL + "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", headers.get("Authorization"));
    }

    @Test
    void signsPostVanilla() {
        assertEquals(CREDENTIAL + "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
                EXAMPLE.authorization("POST", "/", null, SUITE_HEADERS, new byte[0]));
    }

    @Test
    void signsTheBodyAsInPostXWwwFormUrlencoded() {
        Map<String, String> headers = new HashMap<>(SUITE_HEADERS);
        headers.put("Content-Type", "application/x-www-form-urlencoded");
        assertEquals("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
                EXAMPLE.authorization("POST", "/", null, headers, "Param1=value1".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void leavesUnreservedCharactersAsInGetVanillaQueryUnreserved() {
        assertEquals(CREDENTIAL + "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
                EXAMPLE.authorization("GET", "/", UNRESERVED + "=" + UNRESERVED, SUITE_HEADERS, new byte[0]));
    }

    @Test
    void percentEncodesTheRestAsInPostVanillaQueryNonunreserved() {
        // the query as a client sends it: '#', '%' and '+' escaped, the others as they are
        assertEquals(CREDENTIAL + "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
                EXAMPLE.authorization("POST", "/", "@%23$%25^=&%2B=/,?><`\";:\\|][{}", SUITE_HEADERS, new byte[0]));
    }

    @Test
    void encodesUtf8AsInGetVanillaUtf8Query() {
        assertEquals(CREDENTIAL + "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
                EXAMPLE.authorization("GET", "/", "%E1%88%B4=bar", SUITE_HEADERS, new byte[0]));
    }

    @Test
    void signsTheSessionTokenAsInPostStsHeaderAfter() {
        AwsSigV4 session = new AwsSigV4("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", STS_TOKEN, "us-east-1", "service");
        Map<String, String> headers = session.sign("POST", URI.create("https://example.amazonaws.com/"), new byte[0],
                Instant.parse("2015-08-30T12:36:00Z"));
        assertEquals(STS_TOKEN, headers.get("X-Amz-Security-Token"));
        assertEquals("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
                headers.get("Authorization"));
    }

    /** What a present sends to an empty name; Route53ProviderTest checks that the provider sends exactly this body. */
    static final String ROUTE53_CREATE = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest "
            + "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch><Comment>Autocert DNS-01</Comment><Changes><Change>"
            + "<Action>CREATE</Action><ResourceRecordSet><Name>_acme-challenge.www.example.com.</Name><Type>TXT</Type><TTL>10</TTL>"
            + "<ResourceRecords><ResourceRecord><Value>\"MsijOYZxqyjGnFGwhjrhfg-Xgbl5r68WPda0J9EgqqI\"</Value></ResourceRecord>"
            + "</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>";

    @Test
    void signsARoute53ChangeResourceRecordSetsRequest() {
        AwsSigV4 route53 = new AwsSigV4("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", null, "us-east-1", "route53");
        Map<String, String> headers = route53.sign("POST", URI.create("https://route53.amazonaws.com/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset"),
                ROUTE53_CREATE.getBytes(StandardCharsets.UTF_8), Instant.parse("2026-01-01T00:00:00Z"));
        assertEquals("20260101T000000Z", headers.get("X-Amz-Date"));
        assertEquals("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/route53/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=94d12784fd77c9027618f9e7b8eb6f650195cbb467415e0bbce1a9a1701015f7",
                headers.get("Authorization"));
    }

    @Test
    void encodesQueryValuesAsSigV4Wants() {
        assertEquals("a=x%20y&b=_acme-challenge.example.com.&c=%2A", AwsSigV4.canonicalQuery("c=*&b=_acme-challenge.example.com.&a=x%20y"));
    }
}
