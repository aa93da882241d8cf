package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Against AWS's published Signature Version 4 test suite (2015-08-30 edition: access key
 * {@code AKIDEXAMPLE}, region us-east-1, service {@code service}, host example.amazonaws.com).
 */
class AwsSigV4Test {

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
    void signsTheSessionTokenWhenThereIsOne() {
        AwsSigV4 session = new AwsSigV4("AKIDEXAMPLE", "secret", "token", "us-east-1", "route53");
        Map<String, String> headers = session.sign("GET", URI.create("http://127.0.0.1:8080/x"), new byte[0], Instant.EPOCH);
        assertEquals("token", headers.get("X-Amz-Security-Token"));
        assertEquals(session.authorization("GET", "/x", null,
                Map.of("host", "127.0.0.1:8080", "x-amz-date", "19700101T000000Z", "x-amz-security-token", "token"), new byte[0]),
                headers.get("Authorization"));
    }

    @Test
    void encodesQueryValuesAsSigV4Wants() {
        assertEquals("a=x%20y&b=_acme-challenge.example.com.&c=%2A", AwsSigV4.canonicalQuery("c=*&b=_acme-challenge.example.com.&a=x%20y"));
    }
}
