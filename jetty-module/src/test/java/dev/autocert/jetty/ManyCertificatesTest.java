package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import dev.autocert.testkit.StoredCertificates;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Jetty with 10,000 stored certificates, one name each, issued by a test CA in code and stored
 * as if Pebble had issued them: the server starts, serves each by SNI, and serves a renewal from
 * Pebble from the next handshake. Start-up time is printed, not asserted.
 */
class ManyCertificatesTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final int COUNT = 10_000;

    /**
     * Under {@code target/}, which every build cleans, rather than a {@code @TempDir}: deleting
     * its 100,000 files and directories after the test took about 20 s.
     */
    private static final Path STORAGE = Path.of("target", "many-certificates");

    private Server server;

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void startsWithTenThousandStoredCertificatesServesEachBySniAndARenewalFromTheNextHandshake() throws Exception {
        Path storage = STORAGE.resolve(UUID.randomUUID().toString()).toAbsolutePath();
        List<String> names = IntStream.range(0, COUNT).mapToObj(i -> "n" + i + ".example.test").toList();
        StoredCertificates ca = StoredCertificates.create();
        ConcurrentHashMap<String, X509Certificate> stored = new ConcurrentHashMap<>();
        long writing = System.nanoTime();
        names.parallelStream().forEach(name -> {
            try {
                stored.put(name, ca.store(storage, name, PEBBLE.directoryUrl()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long written = System.nanoTime();

        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.pebble(PEBBLE, storage, String.join(";", names)).build());
        long starting = System.nanoTime();
        server.start();
        long started = System.nanoTime();
        System.out.printf("%d certificates: written in %d ms; server.start() took %d ms%n", COUNT,
                TimeUnit.NANOSECONDS.toMillis(written - writing), TimeUnit.NANOSECONDS.toMillis(started - starting));

        int port = TestServers.httpsPort(server);
        SSLContext testRoots = HttpsProbe.trusting(ca.trustStore());
        assertEquals(COUNT, autocert.certificates().size());
        assertFalse(autocert.certificates().stream().anyMatch(CertifiedKey::placeholder));
        for (int i : List.of(0, 1, 2, 999, 5000, 7777, 9998, COUNT - 1)) {
            String name = names.get(i);
            try (HttpsProbe.Connection connection = HttpsProbe.connect(testRoots, port, name)) {
                assertEquals(stored.get(name), connection.served(), name);
                assertEquals("hello " + name, connection.get("/").body());
            }
        }
        try (HttpsProbe.Connection noSni = HttpsProbe.connect(testRoots, port, null, names.get(0))) {
            assertEquals(stored.get(names.get(0)), noSni.served(), "clients without SNI get the first certificate");
        }

        String renewedName = names.get(4242);
        long renewing = System.nanoTime();
        CertifiedKey renewed = autocert.manager().orElseThrow().renew(renewedName).get(120, TimeUnit.SECONDS);
        System.out.printf("renew(%s) completed in %d ms after start-up%n", renewedName,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - renewing));
        assertNotEquals(stored.get(renewedName), renewed.certificate());
        // A new client (no TLS session to resume) sees the renewal at its first handshake.
        try (HttpsProbe.Connection connection = HttpsProbe.connect(HttpsProbe.trusting(PEBBLE.issuingTrustStore()), port, renewedName)) {
            assertEquals(renewed.certificate(), connection.served());
            assertEquals("hello " + renewedName, connection.get("/").body());
        }
        try (HttpsProbe.Connection neighbour = HttpsProbe.connect(HttpsProbe.trusting(ca.trustStore()), port, names.get(4243))) {
            assertEquals(stored.get(names.get(4243)), neighbour.served());
        }
    }
}
