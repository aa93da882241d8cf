package dev.autocert.store.vault;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * How values are kept in KV version 2 secrets: what a secret's {@code data} holds.
 *
 * <ul>
 * <li>A key's value: the secret {@code BASE/KEY} with one field, {@code value}, the bytes in
 *     base64 (values may be binary; base64 keeps them exact).
 * <li>A set ({@link dev.autocert.core.Storage#storeSet}, such as {@code live/NAME}): one secret
 *     {@code BASE/PREFIX} with one field per file, named after the file without {@code .pem}
 *     ({@code cert}, {@code chain}, {@code fullchain}, {@code privkey}) and holding its text as it
 *     is, so that other tools read it directly ({@code bao kv get -field=fullchain
 *     secret/autocert/live/example.com}); and the field {@code autocert-files}, which lists the
 *     files as {@code FILE=FIELD} separated by spaces ({@code cert.pem=cert chain.pem=chain …}),
 *     so the exact file names are kept. A file that is not UTF-8 text is kept in base64 and
 *     listed as {@code FILE=FIELD;base64}. When two files would get the same field (or the
 *     field {@code autocert-files}), the later one's field is its whole file name, or
 *     {@code file:} and its name.
 * <li>A tombstone: the one field {@code autocert-deleted} with the text {@code true}, written by
 *     check-and-set where the store removes a secret it has only read (a set's last file, an empty
 *     set, keys a set replaced), because KV version 2 cannot delete by check-and-set. Absent, to
 *     every reader.
 * </ul>
 *
 * Secrets with other fields (written by someone else) are neither: Autocert ignores them.
 */
final class SecretLayout {

    static final String VALUE = "value";
    static final String FILES = "autocert-files";
    static final String DELETED = "autocert-deleted";
    private static final String BASE64 = ";base64";

    private SecretLayout() {
    }

    /** What a secret holds, for the store. */
    sealed interface Content permits Value, SetOfFiles, Tombstone, Foreign {
    }

    /** One key's value. */
    record Value(byte[] bytes) implements Content {
    }

    /** A set's files, by file name, sorted. */
    record SetOfFiles(Map<String, byte[]> files) implements Content {
        SetOfFiles {
            files = java.util.Collections.unmodifiableMap(new TreeMap<>(files));
        }
    }

    /** A removed secret: absent. */
    record Tombstone() implements Content {
    }

    /** Not written by Autocert. */
    record Foreign() implements Content {
    }

    static Map<String, Object> value(byte[] bytes) {
        return Map.of(VALUE, Base64.getEncoder().encodeToString(bytes));
    }

    static Map<String, Object> tombstone() {
        return Map.of(DELETED, "true");
    }

    static Map<String, Object> set(Map<String, byte[]> files) {
        Map<String, Object> data = new LinkedHashMap<>();
        Set<String> used = new HashSet<>(Set.of(FILES));
        StringBuilder index = new StringBuilder();
        for (Map.Entry<String, byte[]> file : new TreeMap<>(files).entrySet()) {
            String name = file.getKey();
            String field = name.endsWith(".pem") && name.length() > 4 ? name.substring(0, name.length() - 4) : name;
            if (used.contains(field)) {
                field = used.contains(name) ? "file:" + name : name;
            }
            used.add(field);
            Optional<String> text = utf8(file.getValue());
            data.put(field, text.orElseGet(() -> Base64.getEncoder().encodeToString(file.getValue())));
            index.append(index.length() == 0 ? "" : " ").append(name).append('=').append(field)
                    .append(text.isPresent() ? "" : BASE64);
        }
        data.put(FILES, index.toString());
        return data;
    }

    /** Reads a secret's {@code data}; damaged base64 counts as foreign. */
    static Content decode(Map<String, Object> data) {
        if (data.size() == 1 && "true".equals(data.get(DELETED))) {
            return new Tombstone();
        }
        try {
            if (data.get(FILES) instanceof String index) {
                Map<String, byte[]> files = new TreeMap<>();
                for (String entry : index.split(" ")) {
                    if (entry.isEmpty()) {
                        continue;
                    }
                    boolean base64 = entry.endsWith(BASE64);
                    String mapping = base64 ? entry.substring(0, entry.length() - BASE64.length()) : entry;
                    int equals = mapping.indexOf('=');
                    if (equals <= 0 || !(data.get(mapping.substring(equals + 1)) instanceof String field)) {
                        return new Foreign();
                    }
                    files.put(mapping.substring(0, equals),
                            base64 ? Base64.getDecoder().decode(field) : field.getBytes(StandardCharsets.UTF_8));
                }
                return new SetOfFiles(files);
            }
            if (data.size() == 1 && data.get(VALUE) instanceof String value) {
                return new Value(Base64.getDecoder().decode(value));
            }
        } catch (IllegalArgumentException e) {
            // not base64: someone else's secret
        }
        return new Foreign();
    }

    private static Optional<String> utf8(byte[] bytes) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}
