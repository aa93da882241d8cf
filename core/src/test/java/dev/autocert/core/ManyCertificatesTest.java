package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import dev.autocert.testkit.StoredCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up with ten thousand stored certificates: every one served by SNI, published once. */
class ManyCertificatesTest {

    private static final int COUNT = 10_000;
    private static final URI CA = URI.create("https://ca.example.test/dir");

    @TempDir
    Path storage;

    @Test
    void aLineageWhoseFilesChangedSinceTheyWereStoredIsCheckedAgain() throws Exception {
        List<String> names = writeLineages(storage, 2);
        // another key written over the first lineage's: its digest no longer matches, so its key is checked
        Files.write(storage.resolve("archive/" + names.get(0) + "/privkey1.pem"), Pem.encodePrivateKey(KeyType.EC_P256.generate().getPrivate()));
        Lineages lineages = new Lineages(new FileStorage(storage));
        Lineages.Damaged damaged = (Lineages.Damaged) lineages.load(names.get(0), names.get(0));
        assertEquals(1, damaged.version());
        assertEquals(Lineages.Found.class, lineages.load(names.get(1), names.get(1)).getClass());
    }

    @Test
    void loadsTenThousandStoredCertificatesAndServesEachBySni() throws Exception {
        List<String> names = writeLineages(storage, COUNT);
        AutocertSettings settings = AutocertSettings.builder().domains(String.join(";", names)).ca(CA.toString())
                .agreeTos(true).storage(storage).build();
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            long start = System.nanoTime();
            manager.load();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            System.out.println("Loaded " + COUNT + " stored certificates in " + took.toMillis() + " ms");
            assertEquals(COUNT, manager.certificates().size());
            assertEquals(COUNT, events.of(CertificateEvent.Type.LOADED).size());
            assertFalse(manager.certificates().stream().anyMatch(CertifiedKey::placeholder));
            CertificateSet set = new CertificateSet(manager.certificates());
            for (String name : List.of(names.get(0), names.get(4321), names.get(COUNT - 1))) {
                assertEquals(List.of(name), set.select(name).get(0).names());
            }
        }
    }

    /** Writes {@code count} one-version lineages with the test kit, whose layout this also checks against {@link Lineages}. */
    static List<String> writeLineages(Path storage, int count) throws Exception {
        return StoredCertificates.create().storeMany(storage, count, "example.test", CA);
    }
}
