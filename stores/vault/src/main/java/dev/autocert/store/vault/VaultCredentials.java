package dev.autocert.store.vault;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How a {@link VaultStorage} logs in to Vault: a token, or an AppRole's role ID and secret ID.
 * Immutable; secrets are never shown by {@link #toString()}.
 */
sealed interface VaultCredentials {

    /** {@return where the credentials come from, for messages: a setting and its file, or a variable} */
    String source();

    /**
     * A token, given as it is or read from a file. A file is read again when Vault refuses the
     * token, so a token that Vault Agent rotates in its sink file keeps working.
     */
    record Token(Secret token, Optional<Path> file, String source) implements VaultCredentials {
        public Token {
            requireNonNull(token, "token");
            requireNonNull(file, "file");
            requireNonNull(source, "source");
        }

        static Token fromFile(Path file, String setting) throws IOException {
            return new Token(readSecret(file), Optional.of(file), setting + " (" + file + ")");
        }
    }

    /**
     * An AppRole: {@code POST /v1/auth/approle/login} with the role ID and the secret ID, read
     * from its file at every login when it is given as a file.
     */
    record AppRole(String roleId, Optional<Secret> secretId, Optional<Path> secretIdFile, String source)
            implements VaultCredentials {
        public AppRole {
            requireNonNull(roleId, "roleId");
            requireNonNull(secretId, "secretId");
            requireNonNull(secretIdFile, "secretIdFile");
            requireNonNull(source, "source");
            if (secretId.isEmpty() == secretIdFile.isEmpty()) {
                throw new IllegalArgumentException("an AppRole needs its secret ID or a file holding it");
            }
        }

        Secret currentSecretId() throws IOException {
            return secretId.isPresent() ? secretId.get() : readSecret(secretIdFile.get());
        }
    }

    /** Reads a secret from a file, trimmed; a missing, unreadable or empty file is an error naming the file. */
    static Secret readSecret(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            throw new IOException(file + " does not exist");
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
        }
        if (text.isEmpty()) {
            throw new IOException(file + " is empty");
        }
        return new Secret(text);
    }
}
