package dev.autocert.store.vault;

import dev.autocert.core.InvalidSettingException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a {@link VaultStorage} keeps its secrets: Vault's address, the KV version 2 mount and the
 * base path in it, from {@code vault:https://HOST:PORT/MOUNT/BASE/PATH}. Immutable.
 *
 * @param address the server, {@code https://HOST:PORT}, without a path
 * @param mount the mount path of the KV version 2 secrets engine, without slashes, such as {@code secret}
 * @param base the path under the mount that holds Autocert's keys, without leading or trailing
 *     slashes; empty for the mount's root
 */
record VaultLocation(URI address, String mount, String base) {

    static final String SETTING = "autocert.storage";
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._@+-]{1,255}");

    /** Parses {@code location}, with or without the {@code vault:} prefix. */
    static VaultLocation parse(String location) {
        String url = location.startsWith("vault:") ? location.substring("vault:".length()) : location;
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw invalid(redacted(location), "is not a URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http") || uri.getHost() == null) {
            throw invalid(redacted(location), "needs Vault's address with http or https");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            // They may hold a token or a password: name them, never show them.
            java.util.List<String> parts = new java.util.ArrayList<>();
            if (uri.getRawUserInfo() != null) {
                parts.add("user info before the host (user@ or user:password@)");
            }
            if (uri.getRawQuery() != null) {
                parts.add("a query (?...)");
            }
            if (uri.getRawFragment() != null) {
                parts.add("a fragment (#...)");
            }
            String shown = (location.startsWith("vault:") ? "vault:" : "") + scheme + "://" + uri.getHost()
                    + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") + (uri.getRawPath() == null ? "" : uri.getRawPath());
            throw invalid(shown, "(shown here without " + (parts.size() > 1 ? "them" : "it") + ") has " + String.join(" and ", parts)
                    + ", which a Vault location does not take; give the token with autocert.vault-token-file or VAULT_TOKEN");
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("^/+|/+$", "");
        if (path.isEmpty()) {
            throw invalid(location, "names no KV mount: add the mount and a base path, such as /secret/autocert");
        }
        for (String segment : path.split("/")) {
            if (!SEGMENT.matcher(segment).matches() || segment.equals(".") || segment.equals("..")) {
                throw invalid(location, "has the path segment '" + segment + "'; segments are 1-255 of [A-Za-z0-9._@+-]");
            }
        }
        int slash = path.indexOf('/');
        String mount = slash < 0 ? path : path.substring(0, slash);
        String base = slash < 0 ? "" : path.substring(slash + 1);
        URI address = URI.create(scheme + "://" + uri.getRawAuthority());
        return new VaultLocation(address, mount, base);
    }

    /**
     * {@return {@code location} without anything that may be a credential}, for messages about a
     * location that did not parse: everything from the first {@code ?} or {@code #} on, and
     * everything from {@code //} to the last {@code @} (over-cautious: a path may hold an {@code @}).
     */
    static String redacted(String location) {
        String shown = location;
        int query = indexOfAny(shown, "?#");
        if (query >= 0) {
            shown = shown.substring(0, query) + "[query or fragment removed]";
        }
        int slashes = shown.indexOf("//");
        int at = shown.lastIndexOf('@');
        if (at >= 0) {
            int from = slashes >= 0 && slashes < at ? slashes + 2 : 0;
            shown = shown.substring(0, from) + "[user info removed]@" + shown.substring(at + 1);
        }
        return shown;
    }

    private static int indexOfAny(String text, String characters) {
        for (int i = 0; i < text.length(); i++) {
            if (characters.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /** {@code location} must already be fit to show: {@link #redacted(String)} unless it parsed without user info or query. */
    private static InvalidSettingException invalid(String location, String problem) {
        return new InvalidSettingException(SETTING, "'" + location + "' " + problem
                + " (expected vault:https://HOST:PORT/MOUNT/PATH, such as vault:https://vault.example:8200/secret/autocert)");
    }

    /** {@return the path of {@code key} under the mount: {@code BASE/key}} */
    String path(String key) {
        return base.isEmpty() ? key : base + "/" + key;
    }

    /** {@return the API path reading and writing {@code key}'s data: {@code /v1/MOUNT/data/BASE/key}} */
    String dataPath(String key) {
        return "/v1/" + mount + "/data/" + path(key);
    }

    /** {@return the API path of {@code key}'s metadata: {@code /v1/MOUNT/metadata/BASE/key}} */
    String metadataPath(String key) {
        return "/v1/" + mount + "/metadata/" + path(key);
    }

    /** {@return {@code MOUNT/BASE}, as an operator types it: {@code bao kv get -mount=MOUNT BASE/…}} */
    String displayPath() {
        return base.isEmpty() ? mount : mount + "/" + base;
    }

    @Override
    public String toString() {
        return "vault:" + address + "/" + displayPath();
    }
}
