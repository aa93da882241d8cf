package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.jetty.AutocertJetty;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Properties;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running server follows the command on shared storage: a real embedded Jetty with Autocert,
 * in this JVM, obtains its certificate from Pebble (HTTP-01 through its own challenge handler);
 * {@code autocert revoke} or {@code autocert delete}, run as a process on the same storage, makes
 * it serve a new certificate within seconds, without a restart.
 */
class ServerFollowsIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String NAME = "www.example.test";
    /** The engine checks storage every 5 s; ordering from Pebble takes about a second, polling up to 3 s more. */
    private static final Duration FOLLOWS_WITHIN = Duration.ofSeconds(15);

    @TempDir
    Path work;

    private Server server;

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void aRevokedCertificateIsReplacedWithoutARestart() throws Exception {
        Path storage = work.resolve("storage");
        int port = startServer(storage);
        X509Certificate before = served(port);

        CommandRunner.Result result = CommandRunner.run("revoke", "--config", config(storage).toString(), "--cert-name", NAME,
                "--reason", "keycompromise", "--no-delete-after-revoke");
        assertEquals(0, result.exitCode(), result.toString());

        X509Certificate after = awaitNewCertificate(port, before);
        assertEquals(new RevokeIT.Status("Revoked", 1), RevokeIT.status(PEBBLE, serial(before)));
        assertEquals(new RevokeIT.Status("Valid", null), RevokeIT.status(PEBBLE, serial(after)));
        assertEquals(PEBBLE.intermediates().get(0).getSubjectX500Principal(), after.getIssuerX500Principal());
        // The new version went into the same lineage, and live/ holds it for other programs.
        assertEquals(after, RevokeIT.certificate(storage.resolve("live/" + NAME + "/cert.pem")));
        assertTrue(Files.isRegularFile(storage.resolve("archive/" + NAME + "/cert2.pem")));
        assertFalse(Files.readString(storage.resolve("renewal/" + NAME + ".properties")).contains("revoked-serial"),
                "the new version's record carries no revocation");
    }

    @Test
    void aDeletedCertificateIsOrderedAnewWithoutARestart() throws Exception {
        Path storage = work.resolve("storage");
        int port = startServer(storage);
        X509Certificate before = served(port);

        CommandRunner.Result result = CommandRunner.run("delete", "--config", config(storage).toString(), "--cert-name", NAME, "-n");
        assertEquals(0, result.exitCode(), result.toString());

        X509Certificate after = awaitNewCertificate(port, before);
        assertEquals(new RevokeIT.Status("Valid", null), RevokeIT.status(PEBBLE, serial(before)), "delete revokes nothing");
        assertEquals(after, RevokeIT.certificate(storage.resolve("live/" + NAME + "/cert.pem")));
        assertTrue(Files.isRegularFile(storage.resolve("archive/" + NAME + "/cert1.pem")), "a new lineage, from version 1");
        assertFalse(Files.exists(storage.resolve("archive/" + NAME + "/cert2.pem")));
    }

    /** Starts Jetty with Autocert on {@code storage}, waiting for its first certificate; returns its HTTPS port. */
    private int startServer(Path storage) throws Exception {
        server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer());
        ServerConnector https = new ServerConnector(server, new SslConnectionFactory(new SslContextFactory.Server(), "http/1.1"),
                new HttpConnectionFactory(config));
        https.setHost("127.0.0.1");
        server.addConnector(https);
        AutocertJetty.install(server, AutocertSettings.builder().properties(PEBBLE.autocertProperties()).domains(NAME)
                .email("admin@example.test").storage(storage).set("startup-wait", "60s").build());
        server.start();
        return ((NetworkConnector) server.getConnectors()[0]).getLocalPort();
    }

    /** The certificate served for {@link #NAME}, its chain verified to Pebble's root and its name checked. */
    private static X509Certificate served(int port) throws Exception {
        // A new client context each time: a resumed session would show the certificate of its first handshake.
        try (HttpsProbe.Connection connection = HttpsProbe.connect(HttpsProbe.trusting(PEBBLE.issuingTrustStore()), port, NAME)) {
            return connection.served();
        }
    }

    /** Waits until the server serves a certificate other than {@code before}, verified as by {@link #served}. */
    private static X509Certificate awaitNewCertificate(int port, X509Certificate before) throws Exception {
        long deadline = System.nanoTime() + FOLLOWS_WITHIN.toNanos();
        X509Certificate current = before;
        while (System.nanoTime() < deadline) {
            current = served(port);
            if (!current.equals(before)) {
                assertNotEquals(before.getSerialNumber(), current.getSerialNumber());
                return current;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("Within " + FOLLOWS_WITHIN + " the server still served serial " + serial(current));
    }

    private static String serial(X509Certificate certificate) {
        return certificate.getSerialNumber().toString(16);
    }

    private Path config(Path storage) throws IOException {
        Properties properties = new Properties();
        properties.putAll(PEBBLE.autocertProperties());
        properties.setProperty("autocert.storage", storage.toString());
        Path file = work.resolve("autocert.properties");
        try (Writer writer = Files.newBufferedWriter(file)) {
            properties.store(writer, null);
        }
        return file;
    }
}
