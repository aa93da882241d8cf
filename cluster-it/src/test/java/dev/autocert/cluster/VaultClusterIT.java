package dev.autocert.cluster;

import dev.autocert.core.AutocertSettings;
import dev.autocert.testkit.OpenBaoServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cluster on OpenBao (Vault's API, KV v2): locks are check-and-set leases, and nodes follow
 * by reading the store's change marker. The nodes read the token from a file, as operators keep it.
 */
class VaultClusterIT extends ClusterContract {

    @RegisterExtension
    static final OpenBaoServer OPENBAO = OpenBaoServer.builder().build();

    private static Path tokenFile;

    @Override
    Map<String, String> storeSettings() {
        synchronized (VaultClusterIT.class) {
            if (tokenFile == null) {
                try {
                    tokenFile = Files.createTempFile(work, "vault-token", "",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    Files.writeString(tokenFile, OPENBAO.rootToken() + "\n");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put(AutocertSettings.PREFIX + "storage", "vault:" + OPENBAO.address() + "/secret/autocert-cluster");
        settings.put(AutocertSettings.PREFIX + "vault-token-file", tokenFile.toString());
        return settings;
    }
}
