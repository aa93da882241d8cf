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
            throw invalid(location, "is not a URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http") || uri.getHost() == null) {
            throw invalid(location, "needs Vault's address with http or https");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw invalid(location, "takes no user, query or fragment; give the token with autocert.vault-token-file");
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
