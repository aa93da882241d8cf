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
    void neverShowsTheToken() throws Exception {
        assertFalse(first.toString().contains(BAO.rootToken()), first.toString());
        assertEquals("VaultStorage[vault:" + BAO.address() + "/secret/autocert]", first.toString());
    }
}
