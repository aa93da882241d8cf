package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Imports of another client's certificates and account, with self-signed keys; Certbot's own are in the CLI's ImportCertbotIT. */
class StorageImportTest {

    private static final List<String> DOMAINS = List.of("example.com", "www.example.com");
    private static final URI CA = URI.create("https://ca.example.com/dir");

    @TempDir
    Path dir;

    private static CertifiedKey version() {
        return LineagesTest.real(Placeholders.create(ManagedCertificate.of(DOMAINS)));
    }

    @Test
    void keepsEveryVersionWithItsNumberAndMakesTheGivenOneCurrent() throws IOException {
        FileStorage storage = new FileStorage(dir);
        StorageImport imports = new StorageImport(storage);
        Map<Integer, CertifiedKey> versions = Map.of(1, version(), 2, version(), 3, version());

        CertifiedKey current = imports.importLineage(DOMAINS, versions, 2, CA, false);

        assertEquals(2, current.version());
        assertEquals(versions.get(2).serial(), current.serial());
        Lineages.Stored stored = assertInstanceOf(Lineages.Found.class, new Lineages(storage).load("example.com", "example.com")).stored();
        assertEquals(2, stored.meta().version());
        assertEquals(CA, stored.meta().ca());
        assertEquals(DOMAINS, stored.meta().domains());
        assertEquals(KeyType.EC_P256, stored.meta().keyType());
        for (int number = 1; number <= 3; number++) {
            assertEquals(Files.readString(dir.resolve("archive/example.com/cert" + number + ".pem")),
                    new String(Pem.encodeCertificates(versions.get(number).chain().subList(0, 1))));
        }
        assertEquals(Files.readString(dir.resolve("archive/example.com/fullchain2.pem")), Files.readString(dir.resolve("live/example.com/fullchain.pem")));
        assertTrue(imports.hasLineage("example.com"));
        assertEquals(Optional.of(current.serial()), imports.current("example.com").map(CertifiedKey::serial));
        assertEquals(4, new Lineages(storage).store(ManagedCertificate.of(DOMAINS), version(), CA, KeyType.EC_P256, false, Optional.empty())
                .meta().version(), "the engine's next version follows the highest imported");
    }

    @Test
    void replacesAStoredLineageOnlyWhenAsked() throws IOException {
        StorageImport imports = new StorageImport(new FileStorage(dir));
        imports.importLineage(DOMAINS, Map.of(1, version(), 2, version(), 3, version()), 3, CA, false);

        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> imports.importLineage(DOMAINS, Map.of(1, version()), 1, CA, false));
        assertTrue(refused.getMessage().contains("already holds a certificate example.com"), refused.getMessage());

        CertifiedKey replacement = version();
        imports.importLineage(DOMAINS, Map.of(1, replacement), 1, CA, true);
        assertEquals(Optional.of(replacement.serial()), imports.current("example.com").map(CertifiedKey::serial));
        assertFalse(Files.exists(dir.resolve("archive/example.com/cert3.pem")), "the replaced lineage's versions are gone");
    }

    @Test
    void refusesAKeyThatDoesNotMatchItsChainAndStoresNothing() throws IOException {
        StorageImport imports = new StorageImport(new FileStorage(dir));
        CertifiedKey one = version();
        CertifiedKey mismatched = CertifiedKey.of("example.com", version().privateKey(), one.chain());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> imports.importLineage(DOMAINS, Map.of(1, one, 2, mismatched), 2, CA, false));

        assertTrue(e.getMessage().contains("version 2 does not match"), e.getMessage());
        assertFalse(imports.hasLineage("example.com"));
        assertFalse(Files.exists(dir.resolve("archive")));
    }

    @Test
    void readsPemAsOtherClientsWriteIt() throws IOException {
        CertifiedKey key = version();
        CertifiedKey read = StorageImport.readPem(Pem.encodePrivateKey(key.privateKey()), Pem.encodeCertificates(key.chain()));
        assertEquals(key.serial(), read.serial());
        assertEquals("example.com", read.name());
        assertTrue(read.keyMatches());
        assertEquals(Optional.of(KeyType.EC_P256), StorageImport.keyType(read));
        assertEquals("_.example.com", StorageImport.lineageName(List.of("*.example.com")));
    }

    @Test
    void storesAnAccountSoThatTheEngineLogsInByItsUrl() throws Exception {
        FileStorage storage = new FileStorage(dir);
        StorageImport imports = new StorageImport(storage);
        assertEquals(Optional.empty(), imports.accountLocation(CA));
        KeyPair keyPair = KeyType.RSA_2048.generate(); // Certbot's account keys are RSA
        URI location = URI.create("https://ca.example.com/acct/42");

        imports.importAccount(CA, keyPair, location);

        assertEquals(Optional.of(location), imports.accountLocation(CA));
        Accounts.StoredAccount stored = new Accounts(AutocertSettings.builder().buildWithoutCertificates(), storage).stored(CA).orElseThrow();
        assertArrayEquals(keyPair.getPublic().getEncoded(), stored.keyPair().getPublic().getEncoded());
        assertEquals(Optional.of(location), stored.location());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(Accounts.keyName(CA)))));
    }
}
