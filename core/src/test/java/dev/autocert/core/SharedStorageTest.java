package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two engines on one store, behind a balancer that sends each of Pebble's validation requests to
 * one of them in turn: one order, answered by both (each finds the other's tokens in storage),
 * and the same certificate served by both.
 */
class SharedStorageTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder BALANCER = ChallengeResponder.forClass(PEBBLE).alternating();

    @TempDir
    Path storage;

    @Test
    void twoNodesOrderOnceAnswerEachOthersChallengesAndServeTheSameCertificate() throws Exception {
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "cluster.example.test").build();
        long ordersBefore = PEBBLE.countLogLines("POST /order-plz");
        try (CertificateManager first = BALANCER.serve(CertificateManager.builder(settings).build());
                CertificateManager second = BALANCER.serve(CertificateManager.builder(settings).build())) {
            first.start();
            second.start();
            CertifiedKey a = awaitReal(first);
            CertifiedKey b = awaitReal(second);
            assertEquals(a.serial(), b.serial(), "both nodes serve the one certificate");
            assertEquals(1, PEBBLE.countLogLines("POST /order-plz") - ordersBefore, "one order for the cluster");
            // Whichever ordered, the other answered some of Pebble's requests from storage.
            assertTrue(BALANCER.answered(0) > 0 && BALANCER.answered(1) > 0,
                    "answers by node: " + BALANCER.answered(0) + ", " + BALANCER.answered(1));
        }
        assertEquals(List.of(), new FileStorage(storage).list(Http01Tokens.STORAGE_PREFIX), "tokens are removed after validation");
    }

    @Test
    void aNodeAnswersATokenOnlyStorageKnowsAndRequestsForMadeUpTokensAreCheap() throws Exception {
        FileStorage store = new FileStorage(storage);
        Http01Tokens orderingNode = new Http01Tokens(store);
        Http01Tokens otherNode = new Http01Tokens(new FileStorage(storage));
        String token = "a".repeat(43);
        orderingNode.put(token, token + ".thumbprint");
        assertEquals(Optional.of(token + ".thumbprint"), otherNode.respond(Http01Tokens.PATH_PREFIX + token));
        String stored = new String(store.load(Http01Tokens.STORAGE_PREFIX + "/" + token).orElseThrow(), StandardCharsets.UTF_8);
        assertTrue(stored.startsWith(token + ".thumbprint\ncreated="), stored);
        orderingNode.remove(token);
        assertEquals(Optional.empty(), store.load(Http01Tokens.STORAGE_PREFIX + "/" + token));

        // A value that is not this token's key authorization is never served.
        String other = "b".repeat(43);
        store.store(Http01Tokens.STORAGE_PREFIX + "/" + other, "c.thumbprint".getBytes(StandardCharsets.UTF_8));
        assertEquals(Optional.empty(), otherNode.respond(Http01Tokens.PATH_PREFIX + other));
        // Malformed tokens never reach storage (a key like this would be refused by it).
        assertEquals(Optional.empty(), otherNode.respond(Http01Tokens.PATH_PREFIX + "..%2f..%2fetc"));
        // Made-up tokens cost no read, and at most one listing of the stored tokens per 100 ms.
        CountingStorage counting = new CountingStorage(store);
        Http01Tokens guarded = new Http01Tokens(counting);
        long start = System.nanoTime();
        for (int i = 0; i < 5000; i++) {
            guarded.respond(Http01Tokens.PATH_PREFIX + "x" + i);
        }
        long tenths = (System.nanoTime() - start) / 100_000_000L + 1;
        assertEquals(0, counting.loads, "no token was read");
        assertTrue(counting.lists <= tenths, counting.lists + " listings in " + tenths + " tenths of a second");
        // A real token is still found among them: a flood does not use up what the CA's requests need.
        String real = "r".repeat(43);
        new Http01Tokens(store).put(real, real + ".thumbprint");
        Thread.sleep(150);
        assertEquals(Optional.of(real + ".thumbprint"), guarded.respond(Http01Tokens.PATH_PREFIX + real));
    }

    private static CertifiedKey awaitReal(CertificateManager manager) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        while (Instant.now().isBefore(deadline)) {
            Optional<CertifiedKey> key = manager.certificate("cluster.example.test");
            if (key.isPresent() && !key.get().placeholder()) {
                return key.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("No certificate within 90 s");
    }

    /** Counts loads and lists of a real store. */
    private static final class CountingStorage extends ForwardingStorage {
        private int loads;
        private int lists;

        CountingStorage(Storage real) {
            super(real);
        }

        @Override
        public synchronized Optional<byte[]> load(String key) throws java.io.IOException {
            loads++;
            return delegate.load(key);
        }

        @Override
        public synchronized List<String> list(String prefix) throws java.io.IOException {
            lists++;
            return delegate.list(prefix);
        }
    }
}
