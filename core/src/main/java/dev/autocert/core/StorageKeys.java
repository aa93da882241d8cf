package dev.autocert.core;

import java.util.regex.Pattern;

/** The syntax of {@link Storage} keys: segments of safe characters, no {@code .} or {@code ..}. */
final class StorageKeys {

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._@+-]{1,255}");

    private StorageKeys() {
    }

    static String check(String key) {
        if (key == null || key.isEmpty() || key.length() > 1024) {
            throw new IllegalArgumentException("Storage key must be 1-1024 characters: " + key);
        }
        for (String segment : key.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("Invalid storage key '" + key
                        + "': segments are 1-255 of [A-Za-z0-9._@+-], not . or ..");
            }
        }
        return key;
    }
}
