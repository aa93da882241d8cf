package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.RevocationReason;

/**
 * What revocation and deletion leave in storage, with self-signed keys and no CA: the revocation
 * record in {@code renewal/NAME.properties} and how a stored version reads with it, and deletion
 * of exactly one lineage. Revocation at a real CA, and servers following both, are tested by the
 * command line's {@code RevokeIT} and {@code ServerFollowsIT}.
 */
class CertificateRevokerTest {

    private static final URI CA = URI.create("https://ca.example.com/dir");
    private static final ManagedCertificate EXAMPLE = new ManagedCertificate("example.com", List.of("example.com"));
    /** A name that starts with the other: deleting one must not touch it. */
    private static final ManagedCertificate LONGER = new ManagedCertificate("example.com.au", List.of("example.com.au"));

    @TempDir
    Path dir;

    private Lineages.Stored store(Lineages lineages, ManagedCertificate certificate) throws IOException {
        return lineages.store(certificate, LineagesTest.real(Placeholders.create(certificate)), CA, KeyType.EC_P256, false, Optional.empty());
    }

    @Test
    void aRecordedRevocationMakesTheCurrentVersionUnfitUntilTheNextVersion() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        Lineages.Stored first = store(lineages, EXAMPLE);
        Instant now = Instant.now();
        assertEquals(Optional.empty(), first.mismatch(EXAMPLE, List.of(CA), KeyType.EC_P256, now));

        assertTrue(lineages.markRevoked("example.com", new Lineages.Revoked(first.key().serial(), now, "keyCompromise")));

        String renewal = Files.readString(dir.resolve("renewal/example.com.properties"));
        assertTrue(renewal.contains("ca=https\\://ca.example.com/dir") && renewal.contains("digest="), "other entries kept: " + renewal);
        assertEquals(Optional.of(new Lineages.Head(Optional.of(1), Optional.of(first.key().serial()))), lineages.head("example.com"));
        Lineages.Stored loaded = assertInstanceOf(Lineages.Found.class, lineages.load("example.com", "example.com")).stored();
        assertEquals("keyCompromise", loaded.revoked().orElseThrow().reason());
        String mismatch = loaded.mismatch(EXAMPLE, List.of(CA), KeyType.EC_P256, now).orElseThrow();
        assertTrue(mismatch.startsWith("version 1 was revoked at ") && mismatch.endsWith("(keyCompromise)"), mismatch);
        assertEquals(List.of("example.com"), loaded.servable(EXAMPLE, now), "it serves until its replacement arrives");

        Lineages.Stored second = store(lineages, EXAMPLE);
        assertEquals(Optional.of(new Lineages.Head(Optional.of(2), Optional.empty())), lineages.head("example.com"));
        assertEquals(Optional.empty(), second.mismatch(EXAMPLE, List.of(CA), KeyType.EC_P256, now));
    }

    @Test
    void deletesEveryFileOfOneLineageAndNothingElse() throws Exception {
        FileStorage storage = new FileStorage(dir);
        Lineages lineages = new Lineages(storage);
        store(lineages, EXAMPLE);
        store(lineages, EXAMPLE);
        store(lineages, LONGER);
        storage.store("ari/example.com.properties", new byte[] {1});
        storage.store("ari/example.com.au.properties", new byte[] {1});
        storage.store("status/example.com.properties", new byte[] {1});
        storage.store("status/example.com.au.properties", new byte[] {1});
        Path set = dir.resolve("live").resolve(Files.readSymbolicLink(dir.resolve("live/example.com")));

        List<String> deleted = new CertificateRevoker(settings(), storage).delete("example.com");

        assertEquals(1 + 4 + 8 + 2, deleted.size(), deleted.toString());
        assertEquals("renewal/example.com.properties", deleted.get(0), "the commit goes first");
        assertFalse(Files.exists(dir.resolve("live/example.com"), LinkOption.NOFOLLOW_LINKS), "the live link goes");
        assertFalse(Files.exists(set), "and the set it pointed to");
        assertFalse(Files.exists(dir.resolve("archive/example.com")));
        assertEquals(Optional.empty(), lineages.head("example.com"));
        assertEquals(List.of("example.com.au"), lineages.names());
        try (Stream<Path> left = Files.walk(dir)) {
            List<String> files = left.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString())
                    .filter(p -> !p.startsWith("locks/") && !p.equals(".changes")).toList();
            assertEquals(List.of("archive/example.com.au/cert1.pem", "archive/example.com.au/chain1.pem",
                    "archive/example.com.au/fullchain1.pem", "archive/example.com.au/privkey1.pem",
                    "ari/example.com.au.properties", "live/example.com.au/cert.pem", "live/example.com.au/chain.pem", "live/example.com.au/fullchain.pem",
                    "live/example.com.au/privkey.pem", "renewal/example.com.au.properties", "status/example.com.au.properties"),
                    files.stream().map(f -> f.replaceFirst("^live/\\.example\\.com\\.au\\.set-[^/]+", "live/example.com.au")).sorted()
                            .toList());
        }
    }

    @Test
    void deletingOrRevokingANameNotStoredSaysWhatIsStored() throws IOException {
        FileStorage storage = new FileStorage(dir);
        store(new Lineages(storage), EXAMPLE);
        CertificateRevoker revoker = new CertificateRevoker(settings(), storage);

        AutocertException deleting = assertThrows(AutocertException.class, () -> revoker.delete("nope.example.com"));
        AutocertException revoking = assertThrows(AutocertException.class,
                () -> revoker.revoke("nope.example.com", RevocationReason.UNSPECIFIED, false));

        for (AutocertException e : List.of(deleting, revoking)) {
            assertEquals("No certificate named 'nope.example.com' in " + storage + "; stored: example.com; 'autocert certificates' lists them",
                    e.getMessage());
        }
    }

    @Test
    void namesReasonsAsRfc5280Does() {
        assertEquals("keyCompromise", CertificateRevoker.reasonName(RevocationReason.KEY_COMPROMISE));
        assertEquals("cessationOfOperation", CertificateRevoker.reasonName(RevocationReason.CESSATION_OF_OPERATION));
        assertEquals("unspecified", CertificateRevoker.reasonName(RevocationReason.UNSPECIFIED));
        assertEquals("_.example.com", CertificateRevoker.storageName("*.Example.com"));
    }

    private AutocertSettings settings() {
        return AutocertSettings.builder().ca(CA.toString()).storage(dir).buildWithoutCertificates();
    }
}
