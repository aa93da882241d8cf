package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real nginx (Debian's) serving {@code live/NAME/fullchain.pem} and {@code privkey.pem} over
 * TLS, reloaded by {@code autocert.deploy-hook} after the engine renews the certificate: a real
 * TLS client, trusting only Pebble's roots, then gets the new certificate from nginx.
 */
class NginxDeployHookIT {

    private static final Path NGINX = Path.of("/usr/sbin/nginx");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** How soon nginx must serve the renewed certificate once the engine stored it. */
    private static final Duration RELOADED_WITHIN = Duration.ofSeconds(10);

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    Path work;

    private Process nginx;

    @AfterEach
    void stopNginx() throws InterruptedException {
        if (nginx != null) {
            nginx.destroy(); // SIGTERM: nginx's fast shutdown, workers included
            if (!nginx.waitFor(10, TimeUnit.SECONDS)) {
                nginx.descendants().forEach(ProcessHandle::destroyForcibly);
                nginx.destroyForcibly();
            }
        }
    }

    @Test
    void nginxServesTheRenewedCertificateOnceTheDeployHookReloadedIt() throws Exception {
        assertTrue(Files.isExecutable(NGINX), "This test runs Debian's nginx, " + NGINX + ", which is missing: apt-get install -y nginx");
        String name = "nginx.example.test";
        Path storage = work.resolve("storage");
        Path prefix = Files.createDirectories(work.resolve("nginx"));
        int port = freePort();
        Path conf = writeConfig(prefix, storage, name, port);
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties())
                .domains(name + ",www." + name).email("admin@example.test").storage(storage).build();

        // the certificate nginx starts with, obtained by a server on the same storage
        CertifiedKey first;
        try (HooksIT.Responder responder = new HooksIT.Responder(PEBBLE.httpPort());
                CertificateManager manager = engine(settings, responder)) {
            manager.start();
            first = awaitReal(manager, name);
        }
        startNginx(prefix, conf, port);
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
        try (HttpsProbe.Connection https = HttpsProbe.awaitServed(pebbleRoots, port, name, first.serial(), TIMEOUT)) {
            assertEquals(200, https.get("/").status());
            assertEquals("served by nginx\n", https.get("/").body());
        }

        // the server restarts with the deploy hook set, and renews
        String reload = NGINX + " -e " + prefix.resolve("error.log") + " -p " + prefix + " -c " + conf + " -s reload";
        AutocertSettings withHook = settings.toBuilder().deployHook(reload).build();
        try (HooksIT.Responder responder = new HooksIT.Responder(PEBBLE.httpPort());
                CertificateManager manager = engine(withHook, responder)) {
            manager.start();
            assertEquals(first.serial(), manager.certificate(name).orElseThrow().serial(), "loaded from storage, no order");
            CertifiedKey renewed = manager.renew(name).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertNotEquals(first.serial(), renewed.serial());

            try (HttpsProbe.Connection https = HttpsProbe.awaitServed(pebbleRoots, port, name, renewed.serial(), RELOADED_WITHIN)) {
                assertEquals(200, https.get("/").status());
            }
            try (HttpsProbe.Connection https = HttpsProbe.connect(pebbleRoots, port, "www." + name)) {
                assertEquals(renewed.serial(), https.served().getSerialNumber().toString(16), "every name of it");
            }
        }
        assertTrue(nginx.isAlive(), "nginx reloaded, not restarted: " + Files.readString(prefix.resolve("error.log")));
    }

    /** nginx's own configuration, everything in {@code prefix}: pid file, logs, temporary files. */
    private static Path writeConfig(Path prefix, Path storage, String name, int port) throws IOException {
        for (String temp : List.of("body", "proxy", "fastcgi", "uwsgi", "scgi")) {
            Files.createDirectories(prefix.resolve("tmp").resolve(temp));
        }
        Path live = storage.toAbsolutePath().resolve("live").resolve(name);
        String root = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
        String config = root
                + "worker_processes 1;\n"
                + "pid " + prefix.resolve("nginx.pid") + ";\n"
                + "error_log " + prefix.resolve("error.log") + " info;\n"
                + "events { worker_connections 64; }\n"
                + "http {\n"
                + "  access_log " + prefix.resolve("access.log") + ";\n"
                + "  client_body_temp_path " + prefix.resolve("tmp/body") + ";\n"
                + "  proxy_temp_path " + prefix.resolve("tmp/proxy") + ";\n"
                + "  fastcgi_temp_path " + prefix.resolve("tmp/fastcgi") + ";\n"
                + "  uwsgi_temp_path " + prefix.resolve("tmp/uwsgi") + ";\n"
                + "  scgi_temp_path " + prefix.resolve("tmp/scgi") + ";\n"
                + "  server {\n"
                + "    listen 127.0.0.1:" + port + " ssl;\n"
                + "    server_name " + name + " www." + name + ";\n"
                + "    ssl_certificate " + live.resolve("fullchain.pem") + ";\n"
                + "    ssl_certificate_key " + live.resolve("privkey.pem") + ";\n"
                + "    location / { default_type text/plain; return 200 \"served by nginx\\n\"; }\n"
                + "  }\n"
                + "}\n";
        Path conf = prefix.resolve("nginx.conf");
        Files.writeString(conf, config);
        return conf;
    }

    private void startNginx(Path prefix, Path conf, int port) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(NGINX.toString(), "-e", prefix.resolve("error.log").toString(), "-p", prefix.toString(),
                "-c", conf.toString(), "-g", "daemon off;");
        builder.redirectErrorStream(true).redirectOutput(prefix.resolve("stdout.log").toFile());
        nginx = builder.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (!nginx.isAlive()) {
                throw new AssertionError("nginx exited with " + nginx.exitValue() + ": " + Files.readString(prefix.resolve("stdout.log"))
                        + read(prefix.resolve("error.log")));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                if (Files.exists(prefix.resolve("nginx.pid"))) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("nginx did not listen on 127.0.0.1:" + port + " within 15 s: " + read(prefix.resolve("error.log")));
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "";
    }

    private static CertificateManager engine(AutocertSettings settings, HooksIT.Responder responder) {
        CertificateManager manager = CertificateManager.builder(settings).build();
        responder.serve(manager.http01Tokens());
        return manager;
    }

    private static CertifiedKey awaitReal(CertificateManager manager, String name) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<CertifiedKey> key = manager.certificate(name);
            if (key.isPresent() && !key.get().placeholder()) {
                return key.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("No certificate for " + name + " within " + TIMEOUT + ": " + manager.status());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
