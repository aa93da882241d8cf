package dev.autocert.core;

import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The status page of {@code autocert.status-path}, as Apache mod_md's {@code md-status}: what an
 * engine knows of each certificate, as JSON, for plain Jetty and Tomcat (Spring Boot's actuator
 * endpoint shows the same facts). Never a secret: names, issuer, serial, validity, when and why
 * it renews next, and the last failure.
 *
 * <pre>
 * {"status":"UP","time":"…","certificates":[{"name":"example.com","domains":["example.com"],
 *   "placeholder":false,"serial":"…","issuer":"CN=…","notBefore":"…","notAfter":"…",
 *   "nextRenewal":"…","renewalRule":"ari-window","waiting":[],"pending":null,
 *   "failures":0,"lastError":null,"nextAttempt":"…","expiring":false}]}
 * </pre>
 *
 * {@code status} is {@code DOWN} when a certificate {@linkplain CertificateStatus#expiring is
 * expiring}, a placeholder still served after {@code autocert.placeholder-alert} included;
 * adapters answer {@code 503} then, so that a monitor probing the page alerts.
 */
public final class StatusPage {

    /** The media type of {@link #json}. */
    public static final String CONTENT_TYPE = "application/json";

    /** Who may read the page when {@code autocert.status-allow} is not set: this host only. */
    static final List<String> LOOPBACK = List.of("127.0.0.0/8", "::1/128");

    private StatusPage() {
    }

    /**
     * Whether a client at {@code address} may read the page, by {@code autocert.status-allow}
     * ({@link AutocertSettings#statusAllow()}): others get a plain 404, as if there were no page.
     */
    public static boolean allowed(List<String> allow, InetAddress address) {
        if (address == null) {
            return false;
        }
        byte[] bytes = address.getAddress();
        for (String entry : allow) {
            if (entry.equals("*")) {
                return true;
            }
            int slash = entry.indexOf('/');
            byte[] network = literal(entry.substring(0, slash)).getAddress();
            int bits = Integer.parseInt(entry.substring(slash + 1));
            if (network.length == bytes.length && prefixMatches(network, bytes, bits)) {
                return true;
            }
        }
        return false;
    }

    private static boolean prefixMatches(byte[] network, byte[] address, int bits) {
        for (int i = 0; i < bits; i++) {
            int mask = 0x80 >> (i % 8);
            if ((network[i / 8] & mask) != (address[i / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    /** Parses {@code autocert.status-allow}: addresses and networks, comma-separated, or {@code *}. */
    static List<String> parseAllow(String key, String value) {
        List<String> result = new ArrayList<>();
        for (String part : value.split(",")) {
            String entry = part.trim();
            if (entry.isEmpty()) {
                continue;
            }
            if (entry.equals("*")) {
                result.add("*");
                continue;
            }
            int slash = entry.indexOf('/');
            String host = slash < 0 ? entry : entry.substring(0, slash);
            InetAddress address;
            try {
                address = literal(host);
            } catch (IllegalArgumentException e) {
                throw new InvalidSettingException(key, "'" + entry + "' is not an IP address or network; give addresses and "
                        + "networks such as 127.0.0.1, ::1, 10.0.0.0/8, or * for anyone");
            }
            int max = address.getAddress().length * 8;
            int bits;
            try {
                bits = slash < 0 ? max : Integer.parseInt(entry.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > max) {
                throw new InvalidSettingException(key, "'" + entry + "' has a prefix length outside 0 to " + max);
            }
            result.add(address.getHostAddress() + "/" + bits);
        }
        if (result.isEmpty()) {
            throw new InvalidSettingException(key, "names nobody; give addresses or networks, or * for anyone");
        }
        return result;
    }

    /** An IP address literal, never a DNS lookup. */
    private static InetAddress literal(String host) {
        if (!host.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
            throw new IllegalArgumentException(host);
        }
        try {
            return InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(host, e);
        }
    }

    /** Whether no certificate of {@code statuses} is expiring at {@code now}. */
    public static boolean healthy(List<CertificateStatus> statuses, Instant now) {
        return statuses.stream().noneMatch(s -> s.expiring(now));
    }

    /** The page for {@code statuses} at {@code now}. */
    public static String json(List<CertificateStatus> statuses, Instant now) {
        StringBuilder out = new StringBuilder(256 + 512 * statuses.size());
        out.append("{\"status\":").append(jsonString(healthy(statuses, now) ? "UP" : "DOWN"))
                .append(",\"time\":").append(jsonString(now.toString())).append(",\"certificates\":[");
        for (int i = 0; i < statuses.size(); i++) {
            CertificateStatus s = statuses.get(i);
            CertifiedKey served = s.served();
            out.append(i == 0 ? "" : ",").append('{');
            field(out, "name", jsonString(s.name()));
            field(out, "domains", strings(s.domains()));
            field(out, "placeholder", Boolean.toString(served.placeholder()));
            field(out, "serial", served.placeholder() ? "null" : jsonString(served.serial()));
            field(out, "issuer", served.placeholder() ? "null" : jsonString(served.issuer()));
            field(out, "notBefore", jsonString(served.notBefore().toString()));
            field(out, "notAfter", jsonString(served.notAfter().toString()));
            field(out, "nextRenewal", optional(s.nextRenewal().map(Instant::toString)));
            field(out, "renewalRule", optional(s.renewalRule()));
            field(out, "waiting", strings(s.waiting()));
            field(out, "pending", optional(s.pending()));
            field(out, "failures", Integer.toString(s.failures()));
            field(out, "lastError", optional(s.lastError()));
            field(out, "nextAttempt", optional(s.nextAttempt().map(Instant::toString)));
            out.append("\"expiring\":").append(s.expiring(now)).append('}');
        }
        return out.append("]}").toString();
    }

    private static void field(StringBuilder out, String name, String json) {
        out.append('"').append(name).append("\":").append(json).append(',');
    }

    private static String optional(Optional<String> value) {
        return value.map(StatusPage::jsonString).orElse("null");
    }

    private static String strings(List<String> values) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            out.append(i == 0 ? "" : ",").append(jsonString(values.get(i)));
        }
        return out.append(']').toString();
    }

    /**
     * A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped; for
     * tools that write JSON beside this page's, such as the {@code autocert} command's.
     */
    public static String jsonString(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
