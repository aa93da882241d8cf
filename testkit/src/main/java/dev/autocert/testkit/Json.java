package dev.autocert.testkit;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Writes the few JSON values the test kit sends: strings, lists of strings and flat objects. */
final class Json {

    private Json() {
    }

    /**
     * Encodes a string as a JSON string literal.
     *
     * @param value the text
     * @return the quoted and escaped literal
     */
    static String string(String value) {
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
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /**
     * Encodes strings as a JSON array.
     *
     * @param values the strings
     * @return the array text
     */
    static String array(List<String> values) {
        return values.stream().map(Json::string).collect(Collectors.joining(",", "[", "]"));
    }

    /**
     * Encodes an object whose member values are already JSON text.
     *
     * @param members member names and their encoded values, in output order
     * @return the object text
     */
    static String object(Map<String, String> members) {
        return members.entrySet().stream()
                .map(member -> string(member.getKey()) + ":" + member.getValue())
                .collect(Collectors.joining(",", "{", "}"));
    }
}
