package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Storage of lineages, with self-signed keys; issuance by a real CA is in {@link CertificateManagerPebbleTest}. */
class LineagesTest {

    private static final ManagedCertificate CERT = new ManagedCertificate("example.com", List.of("example.com", "www.example.com"));
    private static final URI CA = URI.create("https://ca.example.com/dir");

    @TempDir
    Path dir;

    private Lineages.Stored store(Lineages lineages) throws IOException {
        return lineages.store(CERT, real(Placeholders.create(CERT)), CA, KeyType.EC_P256, false, Optional.empty());
    }

    private Lineages.Loaded load(Lineages lineages) throws IOException {
        return lineages.load(CERT.storageName(), CERT.name());
    }

    @Test
    void keepsEveryVersionAndMarksTheCurrentOne() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        CertifiedKey first = store(lineages).key();
        CertifiedKey second = lineages.store(CERT, real(Placeholders.create(CERT)), CA, KeyType.EC_P256, true,
                Optional.of("shortlived")).key();
        assertEquals(1, first.version());
        assertEquals(2, second.version());
        Lineages.Stored loaded = assertInstanceOf(Lineages.Found.class, load(lineages)).stored();
        assertEquals(2, loaded.key().version());
        assertEquals(second.serial(), loaded.key().serial());
        assertEquals(Optional.of("shortlived"), loaded.meta().profile());
        assertTrue(loaded.meta().ari());
        for (String kind : List.of("cert", "chain", "fullchain", "privkey")) {
            assertTrue(Files.exists(dir.resolve("archive/example.com/" + kind + "1.pem")), kind);
            assertTrue(Files.exists(dir.resolve("archive/example.com/" + kind + "2.pem")), kind);
            assertTrue(Files.exists(dir.resolve("live/example.com/" + kind + ".pem")), kind);
        }
        assertEquals(Files.readString(dir.resolve("archive/example.com/fullchain2.pem")),
                Files.readString(dir.resolve("live/example.com/fullchain.pem")));
        assertEquals(List.of("example.com"), lineages.names());
        assertEquals(Optional.of(2), lineages.currentVersion("example.com"));
    }

    @Test
    void reportsAnUnparseableKeyAsDamage() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        store(lineages);
        Files.writeString(dir.resolve("archive/example.com/privkey1.pem"), "-----BEGIN PRIVATE KEY-----\ngarbage");
        Lineages.Damaged damaged = assertInstanceOf(Lineages.Damaged.class, load(lineages));
        assertEquals(1, damaged.version());
    }

    @Test
    void reportsAKeyThatDoesNotMatchItsCertificateAsDamage() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        store(lineages);
        Files.copy(dir.resolve("archive/example.com/privkey1.pem"), dir.resolve("saved.pem"));
        store(lineages);
        Files.copy(dir.resolve("saved.pem"), dir.resolve("archive/example.com/privkey2.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(assertInstanceOf(Lineages.Damaged.class, load(lineages)).reason().contains("does not match"));
    }

    @Test
    void reportsHalfWrittenMetadataAsDamage() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        store(lineages);
        Files.writeString(dir.resolve("renewal/example.com.properties"), "version=1\nca=");
        assertInstanceOf(Lineages.Damaged.class, load(lineages));
    }

    @Test
    void reportsNothingStoredAsAbsent() throws IOException {
        assertInstanceOf(Lineages.Absent.class, load(new Lineages(new FileStorage(dir))));
    }

    @Test
    void letsStorageReadErrorsThrough() throws IOException {
        Lineages lineages = new Lineages(new FailingReads(new FileStorage(dir), 1));
        store(lineages);
        try {
            load(lineages);
            throw new AssertionError("a read error must not be reported as absent or damaged");
        } catch (IOException expected) {
            assertTrue(expected.getMessage().contains("injected"));
        }
        assertInstanceOf(Lineages.Found.class, load(lineages));
    }

    @Test
    void liveIsAlwaysOneMatchingSetForAReaderThatOpensItsDirectory() throws Exception {
        FileStorage storage = new FileStorage(dir);
        Lineages lineages = new Lineages(storage);
        store(lineages);
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger reads = new AtomicInteger();
        List<String> mismatches = new ArrayList<>();
        Thread reader = new Thread(() -> {
            while (writing.get()) {
                try {
                    Path live = dir.resolve("live/example.com").toRealPath(); // as a server resolves its paths once
                    byte[] key = Files.readAllBytes(live.resolve("privkey.pem"));
                    byte[] chain = Files.readAllBytes(live.resolve("fullchain.pem"));
                    CertifiedKey pair = CertifiedKey.of("example.com", Pem.decodePrivateKey(key), Pem.decodeCertificates(chain));
                    if (!pair.keyMatches()) {
                        synchronized (mismatches) {
                            mismatches.add(live.toString());
                        }
                    }
                    reads.incrementAndGet();
                } catch (IOException e) {
                    // the set this reader resolved was replaced and removed meanwhile: it reads again
                }
            }
        });
        reader.start();
        for (int i = 0; i < 40; i++) {
            store(lineages);
        }
        writing.set(false);
        reader.join();
        assertTrue(reads.get() > 0, "the reader read");
        assertEquals(List.of(), mismatches, "a reader saw a private key beside another version's certificate");
        assertEquals(List.of("live/example.com/cert.pem", "live/example.com/chain.pem", "live/example.com/fullchain.pem",
                "live/example.com/privkey.pem"), storage.list("live"), "old sets are removed and hidden");
    }

    @Test
    void repairsALiveSetThatACrashLeftBehind() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        store(lineages);
        String version1 = Files.readString(dir.resolve("archive/example.com/cert1.pem"));
        Lineages.Stored second = store(lineages);
        // a crash after the commit and before live/ was written leaves version 1 there
        Files.writeString(dir.resolve("live/example.com/cert.pem"), version1);
        assertTrue(lineages.repairLive("example.com", second));
        assertEquals(Files.readString(dir.resolve("archive/example.com/cert2.pem")), Files.readString(dir.resolve("live/example.com/cert.pem")));
        assertEquals(Files.readString(dir.resolve("archive/example.com/privkey2.pem")), Files.readString(dir.resolve("live/example.com/privkey.pem")));
        assertFalse(lineages.repairLive("example.com", second), "an intact set is left alone");
    }

    @Test
    void replacesALiveDirectoryAnOlderVersionWrote() throws IOException {
        Lineages lineages = new Lineages(new FileStorage(dir));
        Files.createDirectories(dir.resolve("live/example.com"));
        Files.writeString(dir.resolve("live/example.com/cert.pem"), "old layout");
        Lineages.Stored stored = store(lineages);
        assertTrue(Files.isSymbolicLink(dir.resolve("live/example.com")));
        assertEquals(Files.readString(dir.resolve("archive/example.com/cert1.pem")), Files.readString(dir.resolve("live/example.com/cert.pem")));
        assertFalse(lineages.repairLive("example.com", stored));
    }

    /** A placeholder's key and certificate, treated as a CA-issued one. */
    static CertifiedKey real(CertifiedKey placeholder) {
        return CertifiedKey.of(placeholder.name(), placeholder.privateKey(), placeholder.chain());
    }
}
