package dev.autocert.store.vault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.Storage;
import dev.autocert.core.StorageContract;
import dev.autocert.testkit.OpenBaoServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jose4j.json.JsonUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link VaultStorage} against a real OpenBao: the storage contract, and the layout other tools read. */
class VaultStorageTest extends StorageContract {

    @RegisterExtension
    static final OpenBaoServer BAO = OpenBaoServer.builder().build();

    private static VaultStorage first;
    private static VaultStorage second;

    @BeforeAll
    static void open() throws Exception {
        first = VaultStorage.builder("vault:" + BAO.address() + "/secret/autocert").token(BAO.rootToken()).build();
        second = VaultStorage.builder("vault:" + BAO.address() + "/secret/autocert").token(BAO.rootToken()).build();
        first.open();
        second.open();
    }

    @AfterAll
    static void close() throws Exception {
        first.close();
        second.close();
    }

    @Override
    protected Storage storage() {
        return first;
    }

    @Override
    protected Storage otherStorage() {
        return second;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** What another tool sees: {@code GET /v1/secret/data/autocert/PATH}, its {@code data.data}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> secret(OpenBaoServer bao, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(bao.address() + "/v1/secret/data/autocert/" + path))
                        .header("X-Vault-Token", bao.rootToken()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        Map<String, Object> data = (Map<String, Object>) JsonUtil.parseJson(response.body()).get("data");
        return (Map<String, Object>) data.get("data");
    }

    @Test
    void aSetIsOneSecretWithAFieldPerFileThatOtherToolsRead() throws Exception {
        String live = testKey("live/example.com");
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : List.of("cert", "chain", "fullchain", "privkey")) {
            files.put(name + ".pem", bytes("-----BEGIN " + name + "-----\nAAAA\n-----END " + name + "-----\n"));
        }
        first.storeSet(live, files);

        Map<String, Object> secret = secret(BAO, live);
        assertEquals("-----BEGIN fullchain-----\nAAAA\n-----END fullchain-----\n", secret.get("fullchain"), "the PEM text as it is");
        assertEquals("-----BEGIN privkey-----\nAAAA\n-----END privkey-----\n", secret.get("privkey"));
        assertEquals("cert.pem=cert chain.pem=chain fullchain.pem=fullchain privkey.pem=privkey", secret.get("autocert-files"));
        assertEquals(5, secret.size(), String.valueOf(secret.keySet()));
        assertEquals(List.of(live + "/cert.pem", live + "/chain.pem", live + "/fullchain.pem", live + "/privkey.pem"), second.list(live));
    }

    @Test
    void aKeyStoredIntoASetChangesThatSet() throws Exception {
        String live = testKey("live/one.example");
        first.storeSet(live, Map.of("cert.pem", bytes("c1"), "privkey.pem", bytes("k1")));
        second.store(live + "/chain.pem", bytes("ch"));
        assertEquals("ch", secret(BAO, live).get("chain"));
        assertEquals(List.of(live + "/cert.pem", live + "/chain.pem", live + "/privkey.pem"), first.list(testKey("live")));
        assertTrue(first.delete(live + "/chain.pem"));
        assertFalse(secret(BAO, live).containsKey("chain"));
    }

    @Test
    void aSetReplacesKeysStoredEarlierUnderItsPrefix() throws Exception {
        String live = testKey("live/imported.example");
        first.store(live + "/cert.pem", bytes("old cert"));
        first.store(live + "/README", bytes("old readme"));
        first.storeSet(live, Map.of("cert.pem", bytes("new cert")));
        assertArrayEquals(bytes("new cert"), second.load(live + "/cert.pem").orElseThrow());
        assertEquals(Optional.empty(), second.load(live + "/README"));
        assertEquals(List.of(live + "/cert.pem"), second.list(live));
    }

    @Test
    void setFilesThatAreNotTextOrCollideKeepTheirNamesAndBytes() throws Exception {
        String set = testKey("odd");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("x", bytes("plain x"));
        files.put("x.pem", bytes("pem x"));
        files.put("autocert-files.pem", bytes("tricky"));
        files.put("blob.der", new byte[] {(byte) 0xff, 0, (byte) 0xfe});
        first.storeSet(set, files);
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            assertArrayEquals(file.getValue(), second.load(set + "/" + file.getKey()).orElseThrow(), file.getKey());
        }
        assertEquals(files.keySet().stream().sorted().map(name -> set + "/" + name).toList(), second.list(set));
    }

    @Test
    void aKeyIsOneSecretWithItsValueInBase64() throws Exception {
        first.store(testKey("archive/example.com/cert1.pem"), bytes("PEM"));
        assertEquals(Map.of("value", "UEVN"), secret(BAO, testKey("archive/example.com/cert1.pem")));
    }

    @Test
    void removingASetsLastFileLeavesATombstoneThatReadsAsAbsent() throws Exception {
        String live = testKey("live/gone.example");
        first.storeSet(live, Map.of("cert.pem", bytes("c")));
        assertTrue(first.delete(live + "/cert.pem"));
        assertEquals(Map.of("autocert-deleted", "true"), secret(BAO, live), "a tombstone, not a delete");
        assertEquals(Optional.empty(), second.load(live + "/cert.pem"));
        assertEquals(List.of(), second.list(live));
        assertEquals(List.of(), second.list(testKey("live")));
        assertFalse(second.delete(live + "/cert.pem"));

        second.store(live + "/cert.pem", bytes("own key")); // no set there now: a key of its own
        assertArrayEquals(bytes("own key"), first.load(live + "/cert.pem").orElseThrow());
        first.storeSet(live, Map.of("cert.pem", bytes("set again"), "privkey.pem", bytes("k")));
        assertEquals(Map.of("autocert-deleted", "true"), secret(BAO, live + "/cert.pem"), "the shadowed key, tombstoned");
        assertArrayEquals(bytes("set again"), second.load(live + "/cert.pem").orElseThrow());
        assertEquals(List.of(live + "/cert.pem", live + "/privkey.pem"), second.list(live));

        first.storeSet(live, Map.of()); // an empty set: a tombstone too
        assertEquals(Map.of("autocert-deleted", "true"), secret(BAO, live));
        assertEquals(List.of(), second.list(live));
    }

    /**
     * A set stored while another process deletes the last file of the set it read is never
     * destroyed: the delete writes its tombstone by check-and-set, so it cannot land on the new set.
     */
    @Test
    void aSetStoredWhileItsLastFileIsDeletedSurvives() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 80; round++) {
                long jitterNanos = (round % 16) * 200_000L; // the store starts 0 to 3 ms after the delete: it lands in every phase of it
                String live = testKey("live/race" + round + ".example");
                first.storeSet(live, Map.of("cert.pem", bytes("old")));
                CountDownLatch go = new CountDownLatch(1);
                Future<?> delete = pool.submit(() -> {
                    go.await();
                    return first.delete(live + "/cert.pem");
                });
                Future<?> store = pool.submit(() -> {
                    go.await();
                    for (long until = System.nanoTime() + jitterNanos; System.nanoTime() < until; ) {
                        Thread.onSpinWait();
                    }
                    second.storeSet(live, Map.of("cert.pem", bytes("new"), "privkey.pem", bytes("new key")));
                    return null;
                });
                go.countDown();
                delete.get();
                store.get();
                // Whatever the order, the delete only ever removes cert.pem: the new set's privkey.pem stays.
                assertArrayEquals(bytes("new key"), second.load(live + "/privkey.pem").orElseThrow(), "round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void neverShowsTheToken() throws Exception {
        assertFalse(first.toString().contains(BAO.rootToken()), first.toString());
        assertEquals("VaultStorage[vault:" + BAO.address() + "/secret/autocert]", first.toString());
    }
}
