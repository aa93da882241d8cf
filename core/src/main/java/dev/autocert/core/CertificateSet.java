package dev.autocert.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The certificates served at one moment, indexed for the handshake: by exact name, by the parent
 * of a wildcard, and by alias; plus the default for clients that send no SNI. Immutable: the
 * engine builds a new one for each change and replaces the reference, so a handshake reads one
 * consistent set without locks, and its cost does not depend on how many certificates there are.
 */
final class CertificateSet {

    static final CertificateSet EMPTY = new CertificateSet(List.of());

    private final Map<String, List<CertifiedKey>> exact;
    private final Map<String, List<CertifiedKey>> wildcards;
    private final Map<String, CertifiedKey> byAlias;
    private final List<CertifiedKey> defaults;

    /** A set serving {@code keys}; the first key's certificate (and its siblings of other key types) is the default. */
    CertificateSet(List<CertifiedKey> keys) {
        Map<String, List<CertifiedKey>> exact = new HashMap<>(keys.size() * 2);
        Map<String, List<CertifiedKey>> wildcards = new HashMap<>();
        Map<String, CertifiedKey> byAlias = new HashMap<>(keys.size() * 2);
        for (CertifiedKey key : keys) {
            byAlias.put(alias(key), key);
            for (String name : key.names()) {
                if (name.startsWith("*.")) {
                    wildcards.computeIfAbsent(name.substring(2), n -> new ArrayList<>(1)).add(key);
                } else {
                    exact.computeIfAbsent(name, n -> new ArrayList<>(1)).add(key);
                }
            }
        }
        this.exact = exact;
        this.wildcards = wildcards;
        this.byAlias = byAlias;
        this.defaults = keys.isEmpty() ? List.of() : keys.stream().filter(k -> k.name().equals(keys.get(0).name())).toList();
    }

    /** The alias the key manager gives {@code key}: unique for the key and its certificate. */
    static String alias(CertifiedKey key) {
        return key.name() + "#" + key.serial();
    }

    /**
     * The keys for {@code serverName} (an SNI host name, or null when the client sent none):
     * exact name first, then a wildcard for its parent, then the default.
     */
    List<CertifiedKey> select(String serverName) {
        List<CertifiedKey> found = match(serverName);
        return found != null ? found : defaults;
    }

    /** The default keys, for clients that send no SNI or a name nothing covers. */
    List<CertifiedKey> defaults() {
        return defaults;
    }

    /** The keys whose certificate covers {@code serverName}, exactly or by a wildcard; null when none does. */
    List<CertifiedKey> match(String serverName) {
        if (serverName != null && !serverName.isEmpty()) {
            String name = serverName.toLowerCase(Locale.ROOT);
            if (name.endsWith(".")) {
                name = name.substring(0, name.length() - 1);
            }
            List<CertifiedKey> found = exact.get(name);
            if (found != null) {
                return found;
            }
            int dot = name.indexOf('.');
            if (dot > 0) {
                return wildcards.get(name.substring(dot + 1));
            }
        }
        return null;
    }

    CertifiedKey byAlias(String alias) {
        return byAlias.get(alias);
    }

    /** Every alias whose key is of {@code algorithm} ({@code EC}, {@code RSA}). */
    List<String> aliases(String algorithm) {
        return byAlias.entrySet().stream().filter(e -> SniKeyManager.matches(e.getValue(), algorithm)).map(Map.Entry::getKey).toList();
    }

    int size() {
        return byAlias.size();
    }
}
