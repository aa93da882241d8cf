package dev.autocert.core;

import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where certificates and accounts are kept ({@code autocert.storage}) and the credentials of a
 * store that needs them ({@code autocert.storage-username}, {@code autocert.storage-password},
 * {@code autocert.vault-*}). Immutable; part of {@link AutocertSettings#storageSettings()}. Secrets
 * are never shown by {@link #toString()}.
 */
public final class StorageSettings {

    /** A URL's scheme of two characters or more: {@code C:\…} stays a path. */
    private static final Pattern URL = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:.*", Pattern.DOTALL);
    private static final Pattern SECRET_PARAMETER = Pattern.compile("(?i)((?:password|secret|token|sslpassword)=)[^&;]*");
    private static final Pattern USER_INFO = Pattern.compile("//[^/@]*@");

    private final String location;
    private final Path directory;
    private final String username;
    private final String password;
    private final Path vaultTokenFile;
    private final String vaultRoleId;
    private final Path vaultSecretIdFile;
    private final Path vaultCaCert;

    StorageSettings(String location, String username, String password, Path vaultTokenFile, String vaultRoleId,
            Path vaultSecretIdFile, Path vaultCaCert) {
        this.location = location;
        this.directory = location == null ? null : directoryOf(location);
        this.username = username;
        this.password = password;
        this.vaultTokenFile = vaultTokenFile;
        this.vaultRoleId = vaultRoleId;
        this.vaultSecretIdFile = vaultSecretIdFile;
        this.vaultCaCert = vaultCaCert;
    }

    /** Checks {@code value} of {@code autocert.storage}: a directory path or a URL. */
    static String parseLocation(String key, String value) {
        if (value.startsWith("jdbc:") && !value.toLowerCase(java.util.Locale.ROOT).startsWith("jdbc:postgresql:")) {
            throw new InvalidSettingException(key, "'" + redact(value) + "': PostgreSQL is the database Autocert supports; "
                    + "give jdbc:postgresql://HOST[:PORT]/DATABASE or a directory");
        }
        if (!URL.matcher(value).matches()) {
            try {
                Path.of(value);
            } catch (InvalidPathException e) {
                throw new InvalidSettingException(key, "'" + value + "' is not a valid directory path");
            }
        } else if (value.startsWith("file:")) {
            try {
                Path.of(URI.create(value));
            } catch (IllegalArgumentException e) {
                throw new InvalidSettingException(key, "'" + value + "' is not a file: URL of a directory; give a path such "
                        + "as /var/lib/autocert");
            }
        }
        return value;
    }

    private static Path directoryOf(String location) {
        if (location.startsWith("file:")) {
            return Path.of(URI.create(location));
        }
        return URL.matcher(location).matches() ? null : Path.of(location);
    }

    /** {@code value} with passwords and tokens in its query and user part replaced, for messages and logs. */
    public static String redact(String value) {
        return USER_INFO.matcher(SECRET_PARAMETER.matcher(value).replaceAll("$1(hidden)")).replaceAll("//(hidden)@");
    }

    /** {@return {@code autocert.storage} as given: a directory or a URL; empty for the surface's default directory} */
    public Optional<String> location() {
        return Optional.ofNullable(location);
    }

    /** {@return the directory of file storage, when {@code autocert.storage} names one} */
    public Optional<Path> directory() {
        return Optional.ofNullable(directory);
    }

    /** {@return {@code autocert.storage-username}: the database user} */
    public Optional<String> username() {
        return Optional.ofNullable(username);
    }

    /** {@return {@code autocert.storage-password}: the database password; a secret, never logged} */
    public Optional<String> password() {
        return Optional.ofNullable(password);
    }

    /** {@return {@code autocert.vault-token-file}: a file holding the Vault token} */
    public Optional<Path> vaultTokenFile() {
        return Optional.ofNullable(vaultTokenFile);
    }

    /** {@return {@code autocert.vault-role-id}: the AppRole role ID to log in with} */
    public Optional<String> vaultRoleId() {
        return Optional.ofNullable(vaultRoleId);
    }

    /** {@return {@code autocert.vault-secret-id-file}: a file holding the AppRole secret ID} */
    public Optional<Path> vaultSecretIdFile() {
        return Optional.ofNullable(vaultSecretIdFile);
    }

    /** {@return {@code autocert.vault-ca-cert}: PEM certificates to trust for Vault's HTTPS, beside the JVM's} */
    public Optional<Path> vaultCaCert() {
        return Optional.ofNullable(vaultCaCert);
    }

    @Override
    public String toString() {
        return location == null ? "(default)" : redact(location)
                + (username != null ? ", username=" + username : "")
                + (password != null ? ", password=(hidden)" : "")
                + (vaultTokenFile != null ? ", vaultTokenFile=" + vaultTokenFile : "")
                + (vaultRoleId != null ? ", vaultRoleId=" + vaultRoleId : "")
                + (vaultSecretIdFile != null ? ", vaultSecretIdFile=" + vaultSecretIdFile : "")
                + (vaultCaCert != null ? ", vaultCaCert=" + vaultCaCert : "");
    }
}
