package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An engine following a storage directory that other processes write: while nothing changes it
 * reads the directory's change marker and nothing else, however many certificates it serves;
 * once another process writes through a {@link FileStorage}, it reads every certificate's head.
 */
class FileStorageFollowingTest {

    private static final int COUNT = 20;

    @TempDir
    Path storage;

    @Test
    void readsOnlyTheMarkerUntilAnotherProcessChangesTheDirectory() throws Exception {
        List<String> names = ManyCertificatesTest.writeLineages(storage, COUNT);
        AutocertSettings settings = AutocertSettings.builder().domains(String.join(";", names)).ca("https://127.0.0.1:9/dir")
                .agreeTos(true).storage(storage).build();
        // A clock that stands still: the marker's once-a-minute turn would read everything in the quiet spell.
        CountingStorage counting = new CountingStorage(new FileStorage(storage, Clock.fixed(Instant.now(), ZoneOffset.UTC)));
        try (CertificateManager manager = CertificateManager.builder(settings).storage(counting).build()) {
            manager.start();
            // The first check (a few seconds after start) reads everything: no marker was known yet.
            long settled = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (counting.markerReads.get() < 2 && System.nanoTime() < settled) {
                Thread.sleep(50);
            }
            assertTrue(counting.headReads.get() >= COUNT, "the first check read every head: " + counting.headReads.get());
            counting.reset();
            Thread.sleep(3_000);
            assertEquals(0, counting.headReads.get(), "heads read while nothing changed");
            assertTrue(counting.markerReads.get() >= 2, "markers read: " + counting.markerReads.get());

            new FileStorage(storage).store("renewal-options/elsewhere.properties", "x".getBytes(StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (counting.headReads.get() < COUNT && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(counting.headReads.get() >= COUNT, "heads read after another process wrote: " + counting.headReads.get());
        }
    }

    /** Counts the reads of {@code renewal/} (each certificate's head) and of the change marker, which it forwards. */
    private static final class CountingStorage extends ForwardingStorage {
        final AtomicInteger headReads = new AtomicInteger();
        final AtomicInteger markerReads = new AtomicInteger();

        CountingStorage(Storage real) {
            super(real);
        }

        void reset() {
            headReads.set(0);
            markerReads.set(0);
        }

        @Override
        public Optional<byte[]> load(String key) throws IOException {
            if (key.startsWith("renewal/")) {
                headReads.incrementAndGet();
            }
            return delegate.load(key);
        }

        @Override
        public Optional<String> changeMarker() throws IOException {
            markerReads.incrementAndGet();
            return delegate.changeMarker();
        }
    }
}
