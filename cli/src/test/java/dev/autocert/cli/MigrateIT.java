package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.FileStorage;
import dev.autocert.testkit.OpenBaoServer;
import dev.autocert.testkit.PebbleServer;
import dev.autocert.testkit.PostgresServer;
import dev.autocert.testkit.StoredCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert migrate} run as a process, around a circle: a directory into PostgreSQL, that
 * into OpenBao, that back into a new directory, which then holds byte for byte what the first one
 * held; and the other verbs work on each store on the way.
 */
class MigrateIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final PostgresServer POSTGRES = PostgresServer.builder().build();

    @RegisterExtension
    static final OpenBaoServer OPENBAO = OpenBaoServer.builder().build();

    @TempDir
    Path work;

    @Test
    void copiesEverythingFromFilesToPostgresToVaultAndBackUnchanged() throws Exception {
        Path first = work.resolve("first");
        StoredCertificates stored = StoredCertificates.create();
        stored.store(first, "a.example.test", PEBBLE.directoryUrl());
        stored.store(first, "b.example.test", PEBBLE.directoryUrl());
        CommandRunner.Result registered = CommandRunner.run("register", "--storage", first.toString(), "--ca",
                PEBBLE.directoryUrl().toString(), "--ca-trust", PEBBLE.trustPem().toString(), "--agree-tos", "-m", "ops@example.test");
        assertEquals(0, registered.exitCode(), registered.toString());

        String database = POSTGRES.newDatabase();
        Path postgres = work.resolve("postgres.properties");
        Files.writeString(postgres, "autocert.storage=" + POSTGRES.jdbcUrl(database) + "\nautocert.storage-username=" + POSTGRES.username()
                + "\nautocert.storage-password=" + POSTGRES.password() + "\n");
        String vault = "vault:" + OPENBAO.address() + "/secret/autocert-migrate";
        Map<String, String> token = Map.of("VAULT_TOKEN", OPENBAO.rootToken());
        Path last = work.resolve("last");

        CommandRunner.Result toPostgres = CommandRunner.run("migrate", "--storage", first.toString(), "--to-config", postgres.toString());
        CommandRunner.Result toVault = CommandRunner.run(token, "migrate", "--config", postgres.toString(), "--to", vault);
        CommandRunner.Result toFiles = CommandRunner.run(token, "migrate", "--storage", vault, "--to", last.toString());

        for (CommandRunner.Result result : List.of(toPostgres, toVault, toFiles)) {
            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(result.out().contains("Copied 2 certificate(s) (8 archived files), 2 account file(s)"), result.toString());
            assertFalse(result.toString().contains(POSTGRES.password()) || result.toString().contains(OPENBAO.rootToken()),
                    "no secret printed: " + result);
        }
        assertTrue(toVault.out().contains("Next: set autocert.storage=" + vault), toVault.toString());

        FileStorage before = new FileStorage(first);
        FileStorage after = new FileStorage(last);
        for (String prefix : MigrateCommand.PREFIXES) {
            List<String> keys = before.list(prefix);
            assertEquals(keys, after.list(prefix), prefix);
            for (String key : keys) {
                assertArrayEquals(before.load(key).orElseThrow(), after.load(key).orElseThrow(), key);
            }
        }
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(last.resolve("live/a.example.test/privkey.pem"))));

        // The current version is one secret with the fields other tools read.
        String secret = OPENBAO.api("GET", "/v1/secret/data/autocert-migrate/live/a.example.test", null);
        String fullchain = Files.readString(first.resolve("live/a.example.test/fullchain.pem"), StandardCharsets.UTF_8);
        assertTrue(secret.contains(fullchain.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow()), secret);

        // The other verbs work on each store.
        CommandRunner.Result onPostgres = CommandRunner.run("certificates", "--config", postgres.toString());
        CommandRunner.Result onVault = CommandRunner.run(token, "certificates", "--storage", vault);
        for (CommandRunner.Result result : List.of(onPostgres, onVault)) {
            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(result.out().contains("Certificate Name: a.example.test") && result.out().contains("Certificate Name: b.example.test")
                    && result.out().contains("Version: 1, stored "), result.toString());
            assertFalse(result.toString().contains(POSTGRES.password()), result.toString());
        }
    }

    @Test
    void refusesToCopyAStoreOntoItselfOrWithoutADestination() throws Exception {
        Path dir = work.resolve("same");
        CommandRunner.Result itself = CommandRunner.run("migrate", "--storage", dir.toString(), "--to", dir.toString());
        CommandRunner.Result nowhere = CommandRunner.run("migrate", "--storage", dir.toString());

        assertEquals(ExitCodes.USAGE, itself.exitCode(), itself.toString());
        assertTrue(itself.err().contains("--to: " + dir + " is the store being copied"), itself.toString());
        assertEquals(ExitCodes.USAGE, nowhere.exitCode(), nowhere.toString());
        assertTrue(nowhere.err().contains("--to LOCATION or --to-config FILE"), nowhere.toString());
    }
}
