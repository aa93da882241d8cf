package dev.autocert.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the DNS servers' programs, and failing with the command that installs a missing one. */
class ProgramsTest {

    @TempDir
    Path dir;

    @Test
    void aMissingProgramFailsWithTheInstallCommand() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Programs.require("autocert-no-such-named", BindServer.PACKAGES, "BIND for tests"));
        assertTrue(e.getMessage().contains("autocert-no-such-named not found"), e.getMessage());
        assertTrue(e.getMessage().contains("sudo apt-get install -y bind9 bind9-dnsutils"), e.getMessage());
    }

    @Test
    void aMissingDataFileFailsWithTheInstallCommand() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Programs.requireFile(dir.resolve("schema.sql"), PowerDnsServer.PACKAGES, "PowerDNS"));
        assertTrue(e.getMessage().contains("sudo apt-get install -y pdns-server pdns-backend-sqlite3 sqlite3"), e.getMessage());
    }

    @Test
    void runsAProgramAndReturnsItsOutput() {
        Path sh = Programs.require("sh", "dash", "a shell");
        assertEquals("hello\n", Programs.run(dir, "hello\n", List.of(sh.toString(), "-c", "cat")));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Programs.run(dir, null, List.of(sh.toString(), "-c", "echo broken >&2; exit 3")));
        assertTrue(e.getMessage().contains("failed with code 3: broken"), e.getMessage());
    }

    @Test
    void tsigKeysNeverShowTheirSecret() {
        TsigKey key = TsigKey.random("acme-key");
        assertTrue(!key.toString().contains(key.secret()), key.toString());
        assertEquals(44, key.secret().length(), "256 bits, base64");
        assertEquals(key.secret(), TsigKey.fromBind("acme-key", key.bindStatement()).secret());
        assertEquals(key.secret(), TsigKey.fromKnot("acme-key", "key:\n" + key.knotEntry()).secret());
    }
}
