package dev.autocert.core;

import java.net.IDN;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Checks and normalises the identifiers of certificates: DNS names (IDNs to punycode, lower case,
 * RFC 1035 labels) and IP addresses (RFC 8738; IPv6 in the RFC 5952 form, {@code ::1}).
 */
final class DomainNames {

    private static final Pattern LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");

    private DomainNames() {
    }

    /**
     * Returns the ASCII form of {@code raw}, or throws naming {@code setting} and the fix.
     * A leading {@code *.} is kept; whether wildcards are allowed is the caller's decision.
     */
    static String normalize(String setting, String raw) {
        String name = raw.trim();
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.isEmpty()) {
            throw new InvalidSettingException(setting, "empty domain name in '" + raw + "'; separate names with commas");
        }
        if (IPV4.matcher(name).matches() || name.contains(":")) {
            return canonicalIp(name).orElseThrow(() -> new InvalidSettingException(setting, "'" + raw
                    + "' is not a valid IP address; write IPv4 as 203.0.113.7 and IPv6 as 2001:db8::7"));
        }
        boolean wildcard = name.startsWith("*.");
        String rest = wildcard ? name.substring(2) : name;
        String ascii;
        try {
            ascii = IDN.toASCII(rest, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(setting, "'" + raw + "' is not a valid domain name (" + e.getMessage() + ")");
        }
        String[] labels = ascii.split("\\.", -1);
        if (labels.length < 2) {
            throw new InvalidSettingException(setting, "'" + raw + "' is not a fully qualified domain name; public CAs only certify names like example.com");
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                throw new InvalidSettingException(setting, "'" + raw + "' is not a valid domain name: label '" + label
                        + "' must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen"
                        + (label.contains("*") ? " (a wildcard may only be the whole first label, as in *.example.com)" : ""));
            }
        }
        if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
            throw new InvalidSettingException(setting, "'" + raw + "' is neither an IP address nor a domain name "
                    + "(no top-level domain is all digits)");
        }
        if (ascii.length() > 253) {
            throw new InvalidSettingException(setting, "'" + raw + "' is longer than 253 characters");
        }
        return wildcard ? "*." + ascii : ascii;
    }

    /** Whether {@code identifier}, as normalised, is an IP address rather than a DNS name. */
    static boolean isIp(String identifier) {
        return identifier.contains(":") || IPV4.matcher(identifier).matches();
    }

    /**
     * The canonical text of an IP address literal: dotted IPv4, or IPv6 in the RFC 5952 form
     * (lower case, zeros compressed); empty when {@code literal} is no IP address. Never
     * resolves a name.
     */
    static java.util.Optional<String> canonicalIp(String literal) {
        String text = literal.startsWith("[") && literal.endsWith("]") ? literal.substring(1, literal.length() - 1) : literal;
        boolean v4 = IPV4.matcher(text).matches();
        if (!v4 && !(text.contains(":") && IPV6.matcher(text).matches())) {
            return java.util.Optional.empty();
        }
        if (v4) {
            StringBuilder canonical = new StringBuilder();
            for (String octet : text.split("\\.")) {
                int value = Integer.parseInt(octet);
                if (value > 255) {
                    return java.util.Optional.empty();
                }
                canonical.append(canonical.length() == 0 ? "" : ".").append(value);
            }
            return java.util.Optional.of(canonical.toString());
        }
        try {
            // With a colon, the JDK parses an IPv6 literal and never looks the text up as a name.
            InetAddress address = InetAddress.getByName(text);
            if (address instanceof Inet6Address v6) {
                return java.util.Optional.of(rfc5952(v6));
            }
            return java.util.Optional.of(address.getHostAddress()); // ::ffff:a.b.c.d is IPv4
        } catch (UnknownHostException e) {
            return java.util.Optional.empty();
        }
    }

    private static String rfc5952(Inet6Address address) {
        byte[] bytes = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1; // a single zero group is not compressed
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && groups[i] == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }
}
