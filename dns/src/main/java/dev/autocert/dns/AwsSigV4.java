package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 for one service and region, in the {@code Authorization} header: the
 * canonical request (method, path, sorted query, signed headers, SHA-256 of the body), the string
 * to sign, and the key derived from the secret through date, region and service. Signs {@code
 * host}, {@code x-amz-date} and, with session credentials, {@code x-amz-security-token}. The
 * path is signed as sent: the providers' paths need no further encoding. Immutable and
 * thread-safe; {@link #toString()} shows the access key id only.
 */
final class AwsSigV4 {

    static final String ALGORITHM = "AWS4-HMAC-SHA256";
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final String accessKeyId;
    private final String secretAccessKey;
    private final String sessionToken;
    private final String region;
    private final String service;

    /**
     * @param sessionToken the temporary credentials' token, or null
     * @param region       the signing region: {@code us-east-1} for Route 53
     * @param service      the signing name: {@code route53}
     */
    AwsSigV4(String accessKeyId, String secretAccessKey, String sessionToken, String region, String service) {
        this.accessKeyId = requireNonNull(accessKeyId, "accessKeyId");
        this.secretAccessKey = requireNonNull(secretAccessKey, "secretAccessKey");
        this.sessionToken = sessionToken;
        this.region = requireNonNull(region, "region");
        this.service = requireNonNull(service, "service");
    }

    /**
     * The headers that sign a request to {@code uri}: {@code X-Amz-Date}, {@code
     * X-Amz-Security-Token} with session credentials, and {@code Authorization}. The {@code Host}
     * header is the one the JDK's client sends: the URI's host, and its port when not the default.
     */
    Map<String, String> sign(String method, URI uri, byte[] body, Instant now) {
        String amzDate = AMZ_DATE.format(now);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("host", host(uri));
        headers.put("x-amz-date", amzDate);
        if (sessionToken != null) {
            headers.put("x-amz-security-token", sessionToken);
        }
        String authorization = authorization(method, uri.getRawPath(), uri.getRawQuery(), headers, body);
        Map<String, String> result = new LinkedHashMap<>();
        result.put("X-Amz-Date", amzDate);
        if (sessionToken != null) {
            result.put("X-Amz-Security-Token", sessionToken);
        }
        result.put("Authorization", authorization);
        return result;
    }

    /**
     * The {@code Authorization} value of a request.
     *
     * @param rawPath  the path as sent, percent-encoded
     * @param rawQuery the query as sent, or null
     * @param headers  the headers to sign, including {@code host} and {@code x-amz-date} (any case)
     */
    String authorization(String method, String rawPath, String rawQuery, Map<String, String> headers, byte[] body) {
        Map<String, String> signed = new TreeMap<>();
        headers.forEach((name, value) -> signed.put(name.toLowerCase(Locale.ROOT), value.strip().replaceAll("\\s+", " ")));
        String amzDate = requireNonNull(signed.get("x-amz-date"), "x-amz-date");
        String date = amzDate.substring(0, 8);
        String signedHeaders = String.join(";", signed.keySet());
        StringBuilder canonicalHeaders = new StringBuilder();
        signed.forEach((name, value) -> canonicalHeaders.append(name).append(':').append(value).append('\n'));
        String canonicalRequest = method.toUpperCase(Locale.ROOT) + "\n"
                + (rawPath == null || rawPath.isEmpty() ? "/" : rawPath) + "\n"
                + canonicalQuery(rawQuery) + "\n"
                + canonicalHeaders + "\n"
                + signedHeaders + "\n"
                + hex(sha256(body));
        String scope = date + "/" + region + "/" + service + "/aws4_request";
        String stringToSign = ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
        byte[] key = hmac(("AWS4" + secretAccessKey).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, region);
        key = hmac(key, service);
        key = hmac(key, "aws4_request");
        String signature = hex(hmac(key, stringToSign));
        return ALGORITHM + " Credential=" + accessKeyId + "/" + scope + ", SignedHeaders=" + signedHeaders + ", Signature=" + signature;
    }

    /** The query with each name and value encoded as SigV4 wants (RFC 3986 unreserved kept) and sorted. */
    static String canonicalQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        List<String[]> pairs = new ArrayList<>();
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            pairs.add(new String[] {encode(decode(name)), encode(decode(value))});
        }
        pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
        List<String> joined = new ArrayList<>();
        for (String[] p : pairs) {
            joined.add(p[0] + "=" + p[1]);
        }
        return String.join("&", joined);
    }

    /** SigV4's URI encoding: every byte but {@code A-Z a-z 0-9 - _ . ~} as {@code %XX}, upper case. */
    static String encode(String value) {
        StringBuilder out = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
                out.append(c);
            } else {
                out.append('%').append(HexFormat.of().withUpperCase().toHexDigits(b));
            }
        }
        return out.toString();
    }

    private static String decode(String value) {
        // '+' in a query sent by the JDK is a literal plus only when encoded; the providers send %20
        return URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String host(URI uri) {
        int port = uri.getPort();
        boolean standard = port == -1 || port == 443 && "https".equals(uri.getScheme()) || port == 80 && "http".equals(uri.getScheme());
        return uri.getHost() + (standard ? "" : ":" + port);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data == null ? new byte[0] : data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public String toString() {
        return "SigV4 " + service + "/" + region + " (" + accessKeyId + ")";
    }
}
