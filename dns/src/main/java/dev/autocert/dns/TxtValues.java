package dev.autocert.dns;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * TXT values as DNS APIs hold them: quoted character-strings (RFC 1035 section 5.1), as rrset
 * APIs want them and most APIs return them, compared with a challenge's value without their
 * quotes. Stateless.
 */
final class TxtValues {

    private TxtValues() {
    }

    /** {@code value} as a quoted character-string. */
    static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** A value as an API returns it, without the quotes: {@code "a" "b"} (split strings) is {@code ab}; an unquoted one as it is. */
    static String unquote(String value) {
        String v = value.strip();
        if (v.length() < 2 || !v.startsWith("\"")) {
            return v;
        }
        StringBuilder out = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '"') {
                inside = !inside;
            } else if (inside && c == '\\' && i + 1 < v.length()) {
                out.append(v.charAt(++i));
            } else if (inside) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Whether one of {@code values}, as an API returns them, is {@code value}. */
    static boolean holds(Collection<String> values, String value) {
        return values.stream().anyMatch(v -> unquote(v).equals(value));
    }

    /** {@code values} as an API returns them, and {@code value} quoted after them. */
    static List<String> adding(Collection<String> values, String value) {
        List<String> all = new ArrayList<>(values);
        all.add(quote(value));
        return all;
    }

    /** {@code values} as an API returns them, without {@code value}. */
    static List<String> without(Collection<String> values, String value) {
        return values.stream().filter(v -> !unquote(v).equals(value)).toList();
    }
}
