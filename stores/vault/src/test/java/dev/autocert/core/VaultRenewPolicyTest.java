package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.OpenBaoServer;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two policies of docs/storage.md, loaded as shipped into a real OpenBao, under a real engine
 * ordering from Pebble: a token with {@code autocert-manage} obtains a certificate; one with
 * {@code autocert-renew} renews it, but cannot start a certificate of its own.
 * (In package {@code dev.autocert.core} for the test kit's HTTP-01 responder.)
 */
class VaultRenewPolicyTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);

    @RegisterExtension
    static final OpenBaoServer OPENBAO = OpenBaoServer.builder().build();

    @TempDir
    Path work;

    @Test
    void aRenewTokenRenewsExistingCertificatesButCannotStartNewOnes() throws Exception {
        for (String policy : List.of("autocert-manage", "autocert-renew")) {
            OPENBAO.writePolicy(policy, Files.readString(Path.of("policies", policy + ".hcl")));
        }
        Path manage = tokenFile("manage", OPENBAO.createToken(List.of("autocert-manage"), Duration.ofHours(1)));
        Path renew = tokenFile("renew", OPENBAO.createToken(List.of("autocert-renew"), Duration.ofHours(1)));

        RenewalResult obtained = renewNow(manage, "policy.example.test", false);
        assertEquals(RenewalResult.Outcome.OBTAINED, obtained.outcome(), obtained.failure().map(Throwable::toString).orElse(""));

        RenewalResult renewed = renewNow(renew, "policy.example.test", true);
        assertEquals(RenewalResult.Outcome.RENEWED, renewed.outcome(), renewed.failure().map(Throwable::toString).orElse(""));
        assertEquals(2, renewed.certificate().version());

        try (dev.autocert.store.vault.VaultStorage store = dev.autocert.store.vault.VaultStorage
                .builder("vault:" + OPENBAO.address() + "/secret/autocert").tokenFile(renew).build()) {
            store.open();
            assertFalse(store.mayCreate("renewal/new.example.test.properties"), "the commit of a new name: update only");
            assertTrue(store.mayCreate("archive/new.example.test/cert1.pem"), "archive files: create only");
        }
        try (dev.autocert.store.vault.VaultStorage store = dev.autocert.store.vault.VaultStorage
                .builder("vault:" + OPENBAO.address() + "/secret/autocert").tokenFile(manage).build()) {
            store.open();
            assertTrue(store.mayCreate("renewal/new.example.test.properties"));
        }
        long orders = PEBBLE.countLogLines("POST /order-plz");
        RenewalResult refused = renewNow(renew, "new.example.test", false);
        assertEquals(RenewalResult.Outcome.FAILED, refused.outcome());
        String message = refused.failure().orElseThrow().getMessage();
        assertTrue(message.contains("does not let this process create renewal/new.example.test.properties")
                && message.contains("no certificate was ordered for new.example.test"), message);
        assertEquals(orders, PEBBLE.countLogLines("POST /order-plz"), "nothing ordered that could not be stored");
        assertFalse(message.contains(Files.readString(renew).strip()), "never the token");
    }

    private RenewalResult renewNow(Path tokenFile, String name, boolean force) throws Exception {
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties()).domains(name)
                .email("ops@example.test")
                .set("storage", "vault:" + OPENBAO.address() + "/secret/autocert")
                .set("vault-token-file", tokenFile.toString())
                .build();
        try (CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings).build())) {
            manager.load();
            return manager.renewNow(name, force);
        }
    }

    private Path tokenFile(String name, String token) throws Exception {
        Path file = work.resolve(name + ".token");
        Files.writeString(file, token, java.nio.charset.StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }
}
