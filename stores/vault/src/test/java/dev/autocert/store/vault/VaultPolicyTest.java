package dev.autocert.store.vault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.Storage;
import dev.autocert.testkit.OpenBaoServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/**
 * The least-privilege policies of {@code policies/}, enforced by a real OpenBao: {@code autocert-manage}
 * may do everything; {@code autocert-renew} may store a new version of an existing certificate
 * but not start a new one, register an account, rewrite the archive or delete.
 */
class VaultPolicyTest {

    @RegisterExtension
    static final OpenBaoServer BAO = OpenBaoServer.builder().build();

    private static String manageToken;
    private static String renewToken;

    @BeforeAll
    static void policies() throws IOException {
        BAO.writePolicy("autocert-manage", Files.readString(Path.of("policies/autocert-manage.hcl")));
        BAO.writePolicy("autocert-renew", Files.readString(Path.of("policies/autocert-renew.hcl")));
        manageToken = BAO.createToken(List.of("autocert-manage"), Duration.ofMinutes(10));
        renewToken = BAO.createToken(List.of("autocert-renew"), Duration.ofMinutes(10));
    }

    private static VaultStorage open(String token) throws IOException {
        VaultStorage storage = VaultStorage.builder("vault:" + BAO.address() + "/secret/autocert").token(token).build();
        storage.open();
        return storage;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, byte[]> live(int version) {
        return Map.of("cert.pem", bytes("cert " + version), "chain.pem", bytes("chain " + version),
                "fullchain.pem", bytes("fullchain " + version), "privkey.pem", bytes("privkey " + version));
    }

    /** Version {@code version} of a lineage, written as core's Lineages writes it: archive, the commit, live. */
    private static void storeVersion(Storage storage, String name, int version, Storage.Lock guard) throws IOException {
        for (String file : List.of("privkey", "cert", "chain", "fullchain")) {
            storage.store("archive/" + name + "/" + file + version + ".pem", bytes(file + " " + version), guard);
        }
        storage.store("renewal/" + name + ".properties", bytes("version=" + version + "\n"), guard);
        storage.storeSet("live/" + name, live(version), guard);
    }

    private static void assertDenied(Executable write) {
        IOException e = assertThrows(IOException.class, write);
        assertTrue(e.getMessage().contains("permission denied"), e.getMessage());
    }

    @Test
    void manageMayCreateCertificatesAndAccountsAndDelete() throws Exception {
        try (VaultStorage manage = open(manageToken)) {
            manage.store("accounts/acme.test_dir/account.key", bytes("account key"));
            manage.store("accounts/acme.test_dir/account.properties", bytes("url=https://acme.test/acct/1\n"));
            try (Storage.Lock lock = manage.tryLock("certificate-example.com", Duration.ofMinutes(1)).orElseThrow()) {
                storeVersion(manage, "example.com", 1, lock);
            }
            manage.store("scratch/x", bytes("x"));
            assertTrue(manage.delete("scratch/x"));
        }
    }

    @Test
    void renewMayStoreANewVersionOfAnExistingCertificateOnly() throws Exception {
        try (VaultStorage manage = open(manageToken)) {
            manage.store("accounts/acme.test_dir/account.key", bytes("account key"));
            manage.store("accounts/acme.test_dir/account.properties", bytes("url=https://acme.test/acct/1\n"));
            storeVersion(manage, "renewed.example", 1, () -> { });
        }
        try (VaultStorage renew = open(renewToken)) {
            // Renewing: a lock, new archive files, the commit and live/, the records, the account's record.
            try (Storage.Lock lock = renew.tryLock("certificate-renewed.example", Duration.ofMinutes(1)).orElseThrow()) {
                storeVersion(renew, "renewed.example", 2, lock);
            }
            renew.store("ari/renewed.example.properties", bytes("window"));
            renew.store("status/renewed.example.properties", bytes("outcome=renewed"));
            renew.store("accounts/acme.test_dir/account.properties", bytes("url=https://acme.test/acct/1\ncontact=x\n"));
            assertArrayEquals(bytes("privkey 2"), renew.load("live/renewed.example/privkey.pem").orElseThrow());
            assertTrue(renew.list("archive/renewed.example").contains("archive/renewed.example/privkey2.pem"));

            // Not: a new certificate (its commit and live/), a new account, a past version, deleting.
            assertDenied(() -> renew.store("renewal/new.example.properties", bytes("version=1\n")));
            assertDenied(() -> renew.storeSet("live/new.example", live(1)));
            assertDenied(() -> renew.store("accounts/other.ca_dir/account.key", bytes("new account key")));
            assertDenied(() -> renew.store("archive/renewed.example/privkey1.pem", bytes("rewritten")));
            assertDenied(() -> renew.delete("archive/renewed.example/cert1.pem"));
            assertDenied(() -> renew.delete("renewal/renewed.example.properties"));
            assertDenied(() -> renew.store("renewal-options/renewed.example.properties", bytes("webroot=/tmp")));
        }
    }
}
