package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.InvalidSettingException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Credentials as Certbot and lego users keep them: INI files, variables and {@code _FILE} variables. */
class DnsCredentialsTest {

    private static final String SECRET = "c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1zaG93bg==";

    @TempDir
    Path dir;

    private Path file(String name, String mode, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    private Path ini(String mode) throws IOException {
        return file("rfc2136.ini", mode, """
                # Target DNS server
                dns_rfc2136_server = 192.0.2.1
                dns_rfc2136_port = 53
                dns_rfc2136_name = keyname.
                dns_rfc2136_secret = %s
                dns_rfc2136_algorithm = HMAC-SHA512
                """.formatted(SECRET));
    }

    @Test
    void aFileOthersMayReadIsRefusedWithTheChmodThatFixesIt() throws Exception {
        Path file = ini("rw-r--r--");

        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> DnsCredentials.read("rfc2136", file, true, Map.of()));

        assertEquals("autocert.dns-credentials", e.setting());
        assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());
        assertTrue(e.getMessage().contains("rw-r--r--"), e.getMessage());
        assertTrue(e.getMessage().contains("autocert.dns-credentials-permissions=warn"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    }

    @Test
    void aFileWritableByTheGroupIsRefusedToo() throws Exception {
        Path file = ini("rw--w----");
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> DnsCredentials.read("rfc2136", file, true, Map.of()));
        assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());
    }

    @Test
    void aFileOnlyItsOwnerMayReadWorks() throws Exception {
        DnsCredentials credentials = DnsCredentials.read("rfc2136", ini("rw-------"), true, Map.of());

        assertEquals(Optional.of(SECRET), credentials.get("dns_rfc2136_secret", "RFC2136_TSIG_SECRET"));
        assertEquals(Optional.of("192.0.2.1"), credentials.get("dns_rfc2136_server", null));
        assertEquals(Optional.of(53), credentials.integer("dns_rfc2136_port", null));
        assertEquals("rfc2136", credentials.provider());
    }

    @Test
    void warnModeUsesAFileOthersMayRead() throws Exception {
        DnsCredentials credentials = DnsCredentials.read("rfc2136", ini("rw-r--r--"), false, Map.of());
        assertEquals(SECRET, credentials.require("dns_rfc2136_secret", "RFC2136_TSIG_SECRET"));
    }

    @Test
    void theSecretNeverAppearsInToString() throws Exception {
        DnsCredentials fromFile = DnsCredentials.read("rfc2136", ini("rw-------"), true, Map.of("RFC2136_TSIG_SECRET", SECRET));
        DnsCredentials fromMap = DnsCredentials.of("rfc2136", Map.of("dns_rfc2136_secret", SECRET));
        for (DnsCredentials credentials : List.of(fromFile, fromMap)) {
            assertFalse(credentials.toString().contains(SECRET), credentials.toString());
            assertTrue(credentials.toString().contains("dns_rfc2136_secret"), "names its keys: " + credentials);
        }
        assertTrue(fromFile.toString().contains(dir.resolve("rfc2136.ini").toString()), fromFile.toString());
        assertFalse(new Rfc2136Provider.Factory().create(DnsCredentials.of("rfc2136", Map.of("dns_rfc2136_server", "127.0.0.1",
                "dns_rfc2136_name", "acme-key", "dns_rfc2136_secret", SECRET))).toString().contains(SECRET));
    }

    @Test
    void theSecretNeverAppearsInAnExceptionMessage() throws Exception {
        // A line that is not 'key = value' is reported by number, never quoted.
        Path malformed = file("malformed.ini", "rw-------", "dns_rfc2136_server = 127.0.0.1\n" + SECRET + "\n");
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> DnsCredentials.read("rfc2136", malformed, true, Map.of()));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());

        // A secret that is not base64.
        String password = "hunter2 is not base64!";
        e = assertThrows(InvalidSettingException.class, () -> new Rfc2136Provider.Factory().create(DnsCredentials.of("rfc2136",
                Map.of("dns_rfc2136_server", "127.0.0.1", "dns_rfc2136_name", "acme-key", "dns_rfc2136_secret", password))));
        assertFalse(e.getMessage().contains(password), e.getMessage());

        // An unknown algorithm names the algorithm, not the secret.
        e = assertThrows(InvalidSettingException.class, () -> new Rfc2136Provider.Factory().create(DnsCredentials.of("rfc2136",
                Map.of("dns_rfc2136_server", "127.0.0.1", "dns_rfc2136_name", "acme-key", "dns_rfc2136_secret", SECRET,
                        "dns_rfc2136_algorithm", "HMAC-SHA3"))));
        assertTrue(e.getMessage().contains("HMAC-SHA3"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());

        // A key without its secret, and a secret without its key.
        e = assertThrows(InvalidSettingException.class, () -> new Rfc2136Provider.Factory().create(DnsCredentials.of("rfc2136",
                Map.of("dns_rfc2136_server", "127.0.0.1", "dns_rfc2136_secret", SECRET))));
        assertTrue(e.getMessage().contains("dns_rfc2136_name") && e.getMessage().contains("RFC2136_TSIG_KEY"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    }

    @Test
    void aMissingCredentialNamesBothSpellingsAndWhereToPutThem() throws Exception {
        Path file = file("empty.ini", "rw-------", "# nothing yet\n");
        DnsCredentials credentials = DnsCredentials.read("cloudflare", file, true, Map.of());

        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> credentials.require("dns_cloudflare_api_token", "CLOUDFLARE_DNS_API_TOKEN"));

        assertEquals("autocert.dns-credentials", e.setting());
        assertTrue(e.getMessage().contains("dns_cloudflare_api_token"), e.getMessage());
        assertTrue(e.getMessage().contains("CLOUDFLARE_DNS_API_TOKEN"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void legoVariablesComeFromTheEnvironmentOrTheFile() throws Exception {
        DnsCredentials fromEnvironment = DnsCredentials.read("rfc2136", null, true, Map.of("RFC2136_TSIG_SECRET", SECRET));
        assertEquals(Optional.of(SECRET), fromEnvironment.get("dns_rfc2136_secret", "RFC2136_TSIG_SECRET"));

        Path file = file("lego.env", "rw-------", "RFC2136_TSIG_SECRET=\"" + SECRET + "\"\nRFC2136_PROPAGATION_TIMEOUT=300\n");
        DnsCredentials fromFile = DnsCredentials.read("rfc2136", file, true, Map.of("RFC2136_TSIG_SECRET", "other"));
        assertEquals(Optional.of(SECRET), fromFile.get("dns_rfc2136_secret", "RFC2136_TSIG_SECRET"), "the file comes first");
        assertEquals(Optional.of(Duration.ofSeconds(300)), fromFile.duration("RFC2136_PROPAGATION_TIMEOUT"));
    }

    @Test
    void aFileVariableNamesTheFileThatHoldsTheValue() throws Exception {
        Path secret = file("tsig-secret", "rw-------", SECRET + "\n");

        DnsCredentials credentials = DnsCredentials.read("rfc2136", null, true,
                Map.of("RFC2136_TSIG_SECRET_FILE", secret.toString()));

        assertEquals(Optional.of(SECRET), credentials.get("dns_rfc2136_secret", "RFC2136_TSIG_SECRET"), "read and stripped");
        assertFalse(credentials.toString().contains(SECRET));

        Path ini = file("with-file.ini", "rw-------", "RFC2136_TSIG_SECRET_FILE = " + secret + "\n");
        assertEquals(Optional.of(SECRET), DnsCredentials.read("rfc2136", ini, true, Map.of())
                .get("dns_rfc2136_secret", "RFC2136_TSIG_SECRET"));
    }

    @Test
    void aFileVariableNamingNoFileSaysWhichVariable() {
        Path missing = dir.resolve("no-such-secret");
        DnsCredentials credentials = DnsCredentials.read("rfc2136", null, true,
                Map.of("RFC2136_TSIG_SECRET_FILE", missing.toString()));

        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> credentials.get("dns_rfc2136_secret", "RFC2136_TSIG_SECRET"));

        assertTrue(e.getMessage().contains("RFC2136_TSIG_SECRET_FILE"), e.getMessage());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void aMissingFileSaysHowToCreateIt() {
        Path missing = dir.resolve("absent.ini");
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> DnsCredentials.read("rfc2136", missing, true, Map.of()));
        assertTrue(e.getMessage().contains(missing + "' does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("0600"), e.getMessage());
    }

    @Test
    void aRotatedSecretIsReadAtTheNextRead() throws Exception {
        Path file = ini("rw-------");
        assertEquals(SECRET, DnsCredentials.read("rfc2136", file, true, Map.of()).require("dns_rfc2136_secret", null));
        Files.writeString(file, "dns_rfc2136_secret = bmV3LXNlY3JldA==\n");
        assertEquals("bmV3LXNlY3JldA==", DnsCredentials.read("rfc2136", file, true, Map.of()).require("dns_rfc2136_secret", null));
    }
}
