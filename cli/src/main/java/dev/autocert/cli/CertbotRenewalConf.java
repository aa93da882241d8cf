package dev.autocert.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A Certbot renewal configuration file, {@code renewal/NAME.conf}, read as Certbot writes it
 * (ConfigObj's INI dialect): {@code key = value} lines at the top saying where the lineage's
 * files are ({@code archive_dir}, {@code cert}, {@code privkey}, …), the section
 * {@code [renewalparams]} with the options of the lineage's last successful run ({@code server},
 * {@code authenticator}, {@code account}, {@code webroot_path}, hooks, …), and its subsection
 * {@code [[webroot_map]]}. A value with commas is a list ({@code webroot_path = /var/www,});
 * quotes ({@code "…"}, {@code '…'}, triple quotes) keep commas and {@code #} in a value.
 * Immutable.
 */
final class CertbotRenewalConf {

    static final String TOP = "";
    static final String PARAMS = "renewalparams";
    static final String WEBROOT_MAP = "renewalparams/webroot_map";

    /** One value: its items (one unless it was written as a list) and whether it was a list. */
    private record Value(List<String> items, boolean list) {
        String text() {
            return String.join(", ", items);
        }
    }

    private final Map<String, Map<String, Value>> sections;

    private CertbotRenewalConf(Map<String, Map<String, Value>> sections) {
        this.sections = sections;
    }

    /** Parses the text of a renewal file; lines it does not understand are skipped, as they hold nothing we use. */
    static CertbotRenewalConf parse(String text) {
        Map<String, Map<String, Value>> sections = new LinkedHashMap<>();
        String top = TOP;
        String current = TOP;
        sections.put(TOP, new LinkedHashMap<>());
        for (String raw : text.split("\r?\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("[[") && line.contains("]]")) {
                current = top + "/" + line.substring(2, line.indexOf("]]")).strip();
                sections.putIfAbsent(current, new LinkedHashMap<>());
                continue;
            }
            if (line.startsWith("[") && line.contains("]")) {
                top = line.substring(1, line.indexOf(']')).strip();
                current = top;
                sections.putIfAbsent(current, new LinkedHashMap<>());
                continue;
            }
            int equals = line.indexOf('=');
            if (equals <= 0) {
                continue;
            }
            sections.get(current).put(line.substring(0, equals).strip(), value(line.substring(equals + 1)));
        }
        return new CertbotRenewalConf(sections);
    }

    /** A value as ConfigObj reads it: quoted or bare items separated by commas, up to a {@code #} comment. */
    private static Value value(String text) {
        List<String> items = new ArrayList<>();
        boolean list = false;
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n || text.charAt(i) == '#') {
                break;
            }
            String item;
            char c = text.charAt(i);
            if (c == '"' || c == '\'') {
                String quote = text.startsWith(String.valueOf(c).repeat(3), i) ? String.valueOf(c).repeat(3) : String.valueOf(c);
                int end = text.indexOf(quote, i + quote.length());
                if (end < 0) {
                    end = n; // unterminated: take the rest, as the nearest reading
                }
                item = text.substring(i + quote.length(), end);
                i = Math.min(n, end + quote.length());
            } else {
                int end = i;
                while (end < n && text.charAt(end) != ',' && text.charAt(end) != '#') {
                    end++;
                }
                item = text.substring(i, end).strip();
                i = end;
            }
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i < n && text.charAt(i) == ',') {
                list = true;
                i++;
                if (!item.isEmpty()) {
                    items.add(item);
                }
                continue;
            }
            if (!item.isEmpty() || !list) {
                items.add(item);
            }
            break;
        }
        return new Value(List.copyOf(items), list);
    }

    /** The value of {@code key} in {@code section} ({@link #TOP}, {@link #PARAMS}); a list joined with ", "; empty when absent or blank. */
    Optional<String> get(String section, String key) {
        Value value = sections.getOrDefault(section, Map.of()).get(key);
        return value == null || value.text().isBlank() || value.text().equals("None") ? Optional.empty() : Optional.of(value.text());
    }

    /** A value of {@code [renewalparams]}; see {@link #get}. */
    Optional<String> param(String key) {
        return get(PARAMS, key);
    }

    /** The items of a list value of {@code [renewalparams]} ({@code webroot_path = a, b,}); empty when absent. */
    List<String> paramList(String key) {
        Value value = sections.getOrDefault(PARAMS, Map.of()).get(key);
        return value == null ? List.of() : value.items().stream().filter(v -> !v.isBlank()).toList();
    }

    /** Whether {@code [renewalparams]} sets {@code key} to a true value ({@code True}). */
    boolean flag(String key) {
        return param(key).map(v -> v.equalsIgnoreCase("true")).orElse(false);
    }

    /** The keys of {@code [renewalparams]}, in file order. */
    Set<String> paramNames() {
        return sections.getOrDefault(PARAMS, Map.of()).keySet();
    }

    /** {@code [[webroot_map]]}: each name's webroot. */
    Map<String, String> webrootMap() {
        Map<String, String> result = new LinkedHashMap<>();
        sections.getOrDefault(WEBROOT_MAP, Map.of()).forEach((name, value) -> result.put(name, value.text()));
        return result;
    }
}
