package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Storage of lineages, with self-signed keys; issuance by a real CA is in {@link CertificateManagerPebbleTest}. */
class LineagesTest {

    private static final ManagedCertificate CERT = new ManagedCertificate("example.com", List.of("example.com", "www.example.com"));
    private static final URI CA = URI.create("https://ca.example.com/dir");

    @TempDir
    Path dir;

    @Test
    void keepsEveryVersionAndMarksTheCurrentOne() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        CertifiedKey first = lineages.store(CERT, real(Placeholders.create(CERT)), CA, KeyType.EC_P256, false);
        CertifiedKey second = lineages.store(CERT, real(Placeholders.create(CERT)), CA, KeyType.EC_P256, false);
        assertEquals(1, first.version());
        assertEquals(2, second.version());
        var loaded = lineages.load(CERT).orElseThrow();
        assertEquals(2, loaded.key().version());
        assertEquals(second.serial(), loaded.key().serial());
        for (String kind : List.of("cert", "chain", "fullchain", "privkey")) {
            assertTrue(Files.exists(dir.resolve("archive/example.com/" + kind + "1.pem")), kind);
            assertTrue(Files.exists(dir.resolve("archive/example.com/" + kind + "2.pem")), kind);
            assertTrue(Files.exists(dir.resolve("live/example.com/" + kind + ".pem")), kind);
        }
        assertEquals(Files.readString(dir.resolve("archive/example.com/fullchain2.pem")),
                Files.readString(dir.resolve("live/example.com/fullchain.pem")));
        assertEquals(List.of("example.com"), lineages.names());
    }

    @Test
    void treatsADamagedVersionAsAbsent() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        lineages.store(CERT, real(Placeholders.create(CERT)), CA, KeyType.EC_P256, false);
        Files.writeString(dir.resolve("archive/example.com/privkey1.pem"), "-----BEGIN PRIVATE KEY-----\ngarbage");
        assertTrue(lineages.load(CERT).isEmpty());
    }

    @Test
    void treatsAKeyThatDoesNotMatchItsCertificateAsAbsent() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        lineages.store(CERT, real(Placeholders.create(CERT)), CA, KeyType.EC_P256, false);
        Files.copy(dir.resolve("archive/example.com/privkey1.pem"), dir.resolve("saved.pem"));
        lineages.store(CERT, real(Placeholders.create(CERT)), CA, KeyType.EC_P256, false);
        Files.copy(dir.resolve("saved.pem"), dir.resolve("archive/example.com/privkey2.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(lineages.load(CERT).isEmpty());
    }

    @Test
    void treatsHalfWrittenMetadataAsAbsent() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        lineages.store(CERT, real(Placeholders.create(CERT)), CA, KeyType.EC_P256, false);
        Files.writeString(dir.resolve("renewal/example.com.properties"), "version=1\nca=");
        assertTrue(lineages.load(CERT).isEmpty());
    }

    /** A placeholder's key and certificate, treated as a CA-issued one. */
    private static CertifiedKey real(CertifiedKey placeholder) {
        return CertifiedKey.of(placeholder.name(), placeholder.privateKey(), placeholder.chain());
    }
}
