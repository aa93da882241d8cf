package dev.autocert.core;

import java.net.IDN;
import java.util.Locale;
import java.util.regex.Pattern;

/** Checks and normalises DNS names for certificates: IDNs to punycode, lower case, RFC 1035 labels. */
final class DomainNames {

    private static final Pattern LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

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
            throw new InvalidSettingException(setting, "'" + raw + "' is an IP address; Autocert obtains certificates for DNS names only");
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
        if (ascii.length() > 253) {
            throw new InvalidSettingException(setting, "'" + raw + "' is longer than 253 characters");
        }
        return wildcard ? "*." + ascii : ascii;
    }
}
