package dev.autocert.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.Storage;
import dev.autocert.testkit.PostgresServer;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code autocert.storage=jdbc:postgresql://…} through {@link Storage#of}. */
class PostgresStorageProviderTest {

    @RegisterExtension
    static final PostgresServer PG = PostgresServer.builder().build();

    @TempDir
    Path directory;

    private static AutocertSettings settings(String url, String user, String password) {
        return AutocertSettings.builder()
                .set("storage", url)
                .set("storage-username", user)
                .set("storage-password", password)
                .buildWithoutCertificates();
    }

    @Test
    void opensTheStoreTheSettingNames() throws Exception {
        AutocertSettings settings = settings(PG.jdbcUrl(PG.newDatabase()), PG.username(), PG.password());
        try (Storage storage = Storage.of(settings, directory)) {
            assertInstanceOf(PostgresStorage.class, storage);
            storage.open();
            storage.store("accounts/a.json", new byte[] {42});
            assertArrayEquals(new byte[] {42}, storage.load("accounts/a.json").orElseThrow());
            assertFalse(storage.toString().contains(PG.password()), storage.toString());
        }
        assertFalse(settings.toString().contains(PG.password()), settings.toString());
    }

    @Test
    void theSettingsCredentialsWinOverTheUrls() throws Exception {
        String url = PG.jdbcUrl(PG.newDatabase()) + "?user=nobody&password=wrong-one&ApplicationName=mine";
        try (Storage storage = Storage.of(settings(url, PG.username(), PG.password()), directory)) {
            storage.open();
            assertFalse(storage.toString().contains("wrong-one"), storage.toString());
        }
    }

    @Test
    void aWrongPasswordIsReportedAtOpenWithoutIt() throws Exception {
        AutocertSettings settings = settings(PG.jdbcUrl(PG.newDatabase()), PG.username(), "Wr0ng-secret");
        try (Storage storage = Storage.of(settings, directory)) {
            IOException e = assertThrows(IOException.class, storage::open);
            assertTrue(e.getMessage().contains("password authentication failed for user \"" + PG.username() + "\""),
                    e.getMessage());
            assertFalse(e.getMessage().contains("Wr0ng-secret"), e.getMessage());
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                assertFalse(String.valueOf(cause.getMessage()).contains("Wr0ng-secret"));
            }
        }
    }

    @Test
    void refusesAUrlTheDriverCannotParse() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> Storage.of(settings("jdbc:postgresql://db:port/x?password=s3cret", "u", "p"), directory));
        assertTrue(e.getMessage().startsWith("autocert.storage: "), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    @Test
    void acceptsPostgresUrlsOnly() {
        PostgresStorageProvider provider = new PostgresStorageProvider();
        assertTrue(provider.accepts("jdbc:postgresql://db/autocert"));
        assertTrue(provider.accepts("JDBC:PostgreSQL://db/autocert"));
        assertFalse(provider.accepts("vault:https://vault:8200/secret/autocert"));
        assertFalse(provider.accepts("/var/lib/autocert"));
    }
}
