package dev.autocert.store.vault;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.Storage;
import dev.autocert.core.StorageProvider;
import dev.autocert.core.StorageSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Opens {@code autocert.storage=vault:https://HOST:PORT/MOUNT/PATH} as a {@link VaultStorage}.
 * Found by {@link java.util.ServiceLoader}; not for direct use.
 *
 * <p>Credentials, first found wins:
 * <ol>
 * <li>AppRole, when {@code autocert.vault-role-id} (or {@code VAULT_ROLE_ID}) is set: the secret
 *     ID from the file {@code autocert.vault-secret-id-file} (read at every login) or
 *     {@code VAULT_SECRET_ID};
 * <li>the token in the file {@code autocert.vault-token-file} (trimmed);
 * <li>the token in {@code VAULT_TOKEN}.
 * </ol>
 * {@code VAULT_NAMESPACE} sets {@code X-Vault-Namespace}; {@code autocert.vault-ca-cert} (or
 * {@code VAULT_CACERT}) names PEM certificates to trust besides the JVM's.
 */
public final class VaultStorageProvider implements StorageProvider {

    static final String TOKEN_FILE = "autocert.vault-token-file";
    static final String ROLE_ID = "autocert.vault-role-id";
    static final String SECRET_ID_FILE = "autocert.vault-secret-id-file";
    static final String CA_CERT = "autocert.vault-ca-cert";

    private final UnaryOperator<String> environment;

    /** The provider {@link java.util.ServiceLoader} makes, reading the process's environment. */
    public VaultStorageProvider() {
        this(System::getenv);
    }

    VaultStorageProvider(UnaryOperator<String> environment) {
        this.environment = requireNonNull(environment, "environment");
    }

    @Override
    public boolean accepts(String location) {
        return location.toLowerCase(Locale.ROOT).startsWith("vault:");
    }

    @Override
    public Storage create(AutocertSettings settings) {
        StorageSettings storage = settings.storageSettings();
        String location = storage.location().orElseThrow(() -> new InvalidSettingException(VaultLocation.SETTING, "is not set"));
        VaultStorage.Builder builder = VaultStorage.builder(location).credentials(credentials(storage));
        env("VAULT_NAMESPACE").ifPresent(builder::namespace);
        Optional<Path> ca = storage.vaultCaCert().or(() -> env("VAULT_CACERT").map(Path::of));
        if (ca.isPresent()) {
            try {
                VaultTls.trusting(ca.get());
            } catch (IOException e) {
                throw new InvalidSettingException(storage.vaultCaCert().isPresent() ? CA_CERT : "VAULT_CACERT", e.getMessage());
            }
            builder.caCertificates(ca.get());
        }
        return builder.build();
    }

    private VaultCredentials credentials(StorageSettings storage) {
        Optional<String> roleId = storage.vaultRoleId().or(() -> env("VAULT_ROLE_ID"));
        if (roleId.isPresent()) {
            String roleSource = storage.vaultRoleId().isPresent() ? ROLE_ID : "VAULT_ROLE_ID";
            if (storage.vaultSecretIdFile().isPresent()) {
                Path file = storage.vaultSecretIdFile().get();
                try {
                    VaultCredentials.readSecret(file);
                } catch (IOException e) {
                    throw new InvalidSettingException(SECRET_ID_FILE, e.getMessage() + "; it must hold the AppRole's secret ID");
                }
                return new VaultCredentials.AppRole(roleId.get(), Optional.empty(), Optional.of(file),
                        roleSource + " and " + SECRET_ID_FILE + " (" + file + ")");
            }
            Optional<String> secretId = env("VAULT_SECRET_ID");
            if (secretId.isEmpty()) {
                throw new InvalidSettingException(SECRET_ID_FILE, "an AppRole login (" + roleSource + " is set) needs its secret ID: "
                        + "set " + SECRET_ID_FILE + " to a file holding it, or VAULT_SECRET_ID");
            }
            return new VaultCredentials.AppRole(roleId.get(), Optional.of(new Secret(secretId.get())), Optional.empty(),
                    roleSource + " and VAULT_SECRET_ID");
        }
        if (storage.vaultTokenFile().isPresent()) {
            try {
                return VaultCredentials.Token.fromFile(storage.vaultTokenFile().get(), TOKEN_FILE);
            } catch (IOException e) {
                throw new InvalidSettingException(TOKEN_FILE, e.getMessage() + "; it must hold a Vault token");
            }
        }
        Optional<String> token = env("VAULT_TOKEN");
        if (token.isPresent()) {
            return new VaultCredentials.Token(new Secret(token.get()), Optional.empty(), "VAULT_TOKEN");
        }
        throw new InvalidSettingException(TOKEN_FILE, "Vault storage needs credentials: set " + TOKEN_FILE
                + " to a file holding a token (or the variable VAULT_TOKEN), or log in with AppRole: " + ROLE_ID
                + " (or VAULT_ROLE_ID) with " + SECRET_ID_FILE + " (or VAULT_SECRET_ID)");
    }

    private Optional<String> env(String name) {
        return Optional.ofNullable(environment.apply(name)).map(String::strip).filter(v -> !v.isEmpty());
    }
}
