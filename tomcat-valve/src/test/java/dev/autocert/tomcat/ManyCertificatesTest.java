package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import dev.autocert.testkit.StoredCertificates;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tomcat with 10,000 stored certificates, one name each, issued by a test CA in code and stored
 * as if Pebble had issued them: Tomcat starts, serves each by SNI through the one key manager,
 * and serves a renewal from Pebble from the next handshake. Start-up time is printed, not asserted.
 */
class ManyCertificatesTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final int COUNT = 10_000;

    @Test
    void startsWithTenThousandStoredCertificatesServesEachBySniAndARenewalFromTheNextHandshake(@TempDir Path dir)
            throws Exception {
        List<String> names = IntStream.range(0, COUNT).mapToObj(i -> "n" + i + ".example.test").toList();
        StoredCertificates ca = StoredCertificates.create();
        Path storage = dir.resolve("storage");
        Map<String, X509Certificate> stored = new ConcurrentHashMap<>();
        long writing = System.nanoTime();
        names.parallelStream().forEach(name -> {
            try {
                stored.put(name, ca.store(storage, name, PEBBLE.directoryUrl()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long written = System.nanoTime();

        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            CertificateManager manager = AutocertTomcat.install(server.tomcat,
                    TestTomcat.settings(PEBBLE, storage, String.join(";", names)).build());
            long starting = System.nanoTime();
            server.start();
            long started = System.nanoTime();
            System.out.printf("Tomcat with %d stored certificates: written in %d ms; tomcat.start() took %d ms%n", COUNT,
                    TimeUnit.NANOSECONDS.toMillis(written - writing), TimeUnit.NANOSECONDS.toMillis(started - starting));

            assertEquals(COUNT, manager.certificates().size());
            assertFalse(manager.certificates().stream().anyMatch(CertifiedKey::placeholder));
            SSLContext testRoots = HttpsProbe.trusting(ca.trustStore());
            for (int i : List.of(0, 1, 2, 999, 5000, 7777, 9998, COUNT - 1)) {
                String name = names.get(i);
                try (HttpsProbe.Connection connection = HttpsProbe.connect(testRoots, server.httpsPort, name)) {
                    assertEquals(stored.get(name), connection.served(), name);
                    assertEquals("hello " + name + " /", connection.get("/").body());
                }
            }
            try (HttpsProbe.Connection noSni = HttpsProbe.connect(testRoots, server.httpsPort, null, names.get(0))) {
                assertEquals(stored.get(names.get(0)), noSni.served(), "clients without SNI get the first certificate");
            }

            String renewedName = names.get(4242);
            long renewing = System.nanoTime();
            CertifiedKey renewed = manager.renew(renewedName).get(120, TimeUnit.SECONDS);
            System.out.printf("renew(%s) completed in %d ms%n", renewedName,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - renewing));
            assertNotEquals(stored.get(renewedName), renewed.certificate());
            // A new client (no TLS session to resume) sees the renewal at its first handshake.
            try (HttpsProbe.Connection connection = HttpsProbe.connect(HttpsProbe.trusting(PEBBLE.issuingTrustStore()),
                    server.httpsPort, renewedName)) {
                assertEquals(renewed.certificate(), connection.served());
                assertEquals("hello " + renewedName + " /", connection.get("/").body());
            }
            try (HttpsProbe.Connection neighbour = HttpsProbe.connect(testRoots, server.httpsPort, names.get(4243))) {
                assertEquals(stored.get(names.get(4243)), neighbour.served());
            }
        }
    }
}
