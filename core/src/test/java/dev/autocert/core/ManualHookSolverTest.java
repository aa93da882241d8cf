package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP-01 through Certbot's manual hooks ({@code autocert.manual-auth-hook}), as for a server whose
 * port 80 belongs to another web server: the hook writes each token into that server's webroot,
 * here a small real HTTP server on Pebble's validation port serving files, and Pebble validates by
 * fetching them from there.
 */
class ManualHookSolverTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    Path dir;

    private HttpServer webServer;
    private Path webroot;

    @BeforeEach
    void startTheOtherWebServer() throws IOException {
        webroot = Files.createDirectories(dir.resolve("webroot"));
        webServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), PEBBLE.httpPort()), 16);
        webServer.createContext("/", exchange -> {
            Path file = webroot.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
            byte[] body = file.startsWith(webroot) && Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
            exchange.sendResponseHeaders(body != null ? 200 : 404, body != null ? body.length : -1);
            if (body != null) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        webServer.start();
    }

    @AfterEach
    void stopTheOtherWebServer() {
        webServer.stop(0);
    }

    private Path script(String name, String body) throws IOException {
        Path script = dir.resolve(name);
        Files.writeString(script, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    @Test
    void certbotHooksWriteTheTokensIntoAnotherServersWebroot() throws Exception {
        Path log = dir.resolve("hooks.log");
        Path auth = script("auth.sh", """
                mkdir -p '%1$s/.well-known/acme-challenge'
                printf '%%s' "$CERTBOT_VALIDATION" > '%1$s/.well-known/acme-challenge/'"$CERTBOT_TOKEN"
                echo "auth $CERTBOT_DOMAIN remaining=$CERTBOT_REMAINING_CHALLENGES all=$CERTBOT_ALL_DOMAINS" >> '%2$s'
                echo "wrote $CERTBOT_TOKEN"
                """.formatted(webroot, log));
        Path cleanup = script("cleanup.sh", """
                rm -f '%1$s/.well-known/acme-challenge/'"$CERTBOT_TOKEN"
                echo "cleanup $CERTBOT_DOMAIN output=$CERTBOT_AUTH_OUTPUT" >> '%2$s'
                """.formatted(webroot, log));
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, dir.resolve("storage"), "hooks.example.test,www.hooks.example.test")
                .set("manual-auth-hook", auth.toString()).set("manual-cleanup-hook", cleanup.toString()).build();
        assertFalse(settings.answersHttp01(), "the hooks answer: adapters open no HTTP port");
        Events events = new Events();

        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, "hooks.example.test", TIMEOUT).certificate();
            assertEquals(List.of("hooks.example.test", "www.hooks.example.test"), issued.names().stream().sorted().toList());
        }
        List<String> lines = Files.readAllLines(log);
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.contains("auth hooks.example.test remaining=1 all=hooks.example.test,www.hooks.example.test")
                || lines.contains("auth www.hooks.example.test remaining=1 all=www.hooks.example.test,hooks.example.test"), lines.toString());
        assertTrue(lines.stream().filter(l -> l.startsWith("auth ")).anyMatch(l -> l.contains("remaining=0")), lines.toString());
        assertTrue(lines.stream().filter(l -> l.startsWith("cleanup ")).allMatch(l -> l.contains("output=wrote ")), lines.toString());
        try (var left = Files.list(webroot.resolve(".well-known/acme-challenge"))) {
            assertEquals(0, left.count(), "the cleanup hook removed every token");
        }
    }

    @Test
    void aFailingAuthHookFailsTheOrderWithItsExitCodeAndOutput() throws Exception {
        Path auth = script("auth.sh", "echo 'cannot write to /var/www: permission denied' >&2\nexit 3\n");
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, dir.resolve("storage"), "failing-hook.example.test")
                .set("manual-auth-hook", auth.toString()).build();
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            manager.start();
            AutocertException cause = events.await(CertificateEvent.Type.FAILED, "failing-hook.example.test", TIMEOUT).cause()
                    .orElseThrow();
            assertTrue(cause.getMessage().contains("exit code 3"), cause.getMessage());
            assertTrue(cause.getMessage().contains("cannot write to /var/www: permission denied"), cause.getMessage());
            assertTrue(cause.getMessage().contains("autocert.manual-auth-hook"), cause.getMessage());
        }
    }

    @Test
    void aCleanupHookWithoutAnAuthHookIsRefused() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> PebbleFixtures.settings(PEBBLE, dir, "x.example.test").set("manual-cleanup-hook", "/bin/true").build());
        assertEquals("autocert.manual-cleanup-hook", e.setting());
    }
}
