package dev.autocert.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Runs the real Pebble: one shared by the class, and short-lived ones for restart and failures. */
class PebbleServerTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @Test
    void givesTheAutocertSettingsThatPointAtIt() throws Exception {
        var properties = PEBBLE.autocertProperties();
        assertEquals(PEBBLE.directoryUrl().toString(), properties.get("autocert.ca"));
        assertEquals(PEBBLE.trustPem().toString(), properties.get("autocert.ca-trust"));
        assertTrue(java.nio.file.Files.isReadable(PEBBLE.trustPem()));
        assertEquals(Integer.toString(PEBBLE.httpPort()), properties.get("autocert.http-port"));
        assertEquals("true", properties.get("autocert.agree-tos"));
    }

    @Test
    void isResolvedAsParameterAndRunning(PebbleServer pebble) {
        assertSame(PEBBLE, pebble);
        assertTrue(pebble.isRunning());
        pebble.start();
        assertTrue(pebble.isRunning(), "start() on a running server changes nothing");
    }

    @Test
    void directoryAnswersOverHttpsTrustedOnlyViaTrustContext() throws Exception {
        HttpResponse<String> response = get(PEBBLE.trustContext(), PEBBLE.directoryUrl());

        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"newOrder\""), response.body());
        assertEquals("https://localhost:" + PEBBLE.directoryUrl().getPort() + "/dir",
                PEBBLE.directoryUrl().toString());
        assertThrows(SSLHandshakeException.class, () -> get(SSLContext.getDefault(), PEBBLE.directoryUrl()));
    }

    @Test
    void trustPemHoldsTheListenerAuthority() throws Exception {
        List<X509Certificate> trust = PebbleCertificates.parseCertificates(Files.readString(PEBBLE.trustPem()));

        assertEquals(1, trust.size());
        assertTrue(trust.get(0).getBasicConstraints() >= 0, "a CA certificate");
        assertEquals("EC", trust.get(0).getPublicKey().getAlgorithm());
    }

    @Test
    void issuingRootIsSelfSignedPebbleRootCa() throws Exception {
        X509Certificate root = PEBBLE.issuingRoot();

        assertTrue(root.getSubjectX500Principal().getName().startsWith("CN=Pebble Root CA"),
                root.getSubjectX500Principal().getName());
        assertEquals(root.getSubjectX500Principal(), root.getIssuerX500Principal());
        root.verify(root.getPublicKey());
        assertTrue(root.getBasicConstraints() >= 0, "a CA certificate");
        assertEquals(List.of(root), PEBBLE.issuingRoots());

        X509Certificate intermediate = PEBBLE.intermediates().get(0);
        intermediate.verify(root.getPublicKey());

        KeyStore store = PEBBLE.issuingTrustStore();
        assertEquals(1, store.size());
        assertEquals(root, store.getCertificate(store.aliases().nextElement()));
    }

    @Test
    void mockDnsAnswersEveryNameWithLoopbackAndServesTxtRecords() throws Exception {
        assertEquals(List.of("127.0.0.1"), DnsClient.query(PEBBLE.dnsAddress(), "www.example.test", DnsClient.TYPE_A));

        PEBBLE.addA("other.example.test", "127.0.0.2", "127.0.0.3");
        assertEquals(List.of("127.0.0.2", "127.0.0.3"),
                DnsClient.query(PEBBLE.dnsAddress(), "other.example.test", DnsClient.TYPE_A));

        PEBBLE.setTxt("_acme-challenge.example.test", "token-value");
        assertEquals(List.of("token-value"),
                DnsClient.query(PEBBLE.dnsAddress(), "_acme-challenge.example.test", DnsClient.TYPE_TXT));

        PEBBLE.clearTxt("_acme-challenge.example.test.");
        assertEquals(List.of(),
                DnsClient.query(PEBBLE.dnsAddress(), "_acme-challenge.example.test", DnsClient.TYPE_TXT));
    }

    @Test
    void addARejectsNonAddresses() {
        assertThrows(IllegalArgumentException.class, () -> PEBBLE.addA("x.example.test"));
        assertThrows(IllegalArgumentException.class, () -> PEBBLE.addA("x.example.test", "localhost"));
        assertThrows(IllegalArgumentException.class, () -> PEBBLE.addA("x.example.test", "::1"));
    }

    @Test
    void restartKeepsPortsAndTrustButBringsNewIssuingRoots() throws Exception {
        try (PebbleServer pebble = PebbleServer.builder()
                .alternateRoots(1)
                .certificateValidity(Duration.ofMinutes(10))
                .externalAccountBinding("kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W")
                .nonceRejectPercent(50)
                .build()) {
            pebble.start();
            String directory = get(pebble.trustContext(), pebble.directoryUrl()).body();
            assertTrue(directory.contains("\"externalAccountRequired\": true"), directory);
            List<X509Certificate> roots = pebble.issuingRoots();
            assertEquals(2, roots.size());
            assertEquals(2, pebble.intermediates().size());
            assertEquals(2, pebble.issuingTrustStore().size());
            URI directoryUrl = pebble.directoryUrl();
            Path trust = pebble.trustPem();
            int management = pebble.managementPort();
            pebble.setTxt("_acme-challenge.restart.test", "kept");

            pebble.restart();

            assertTrue(pebble.isRunning());
            assertEquals(directoryUrl, pebble.directoryUrl());
            assertEquals(trust, pebble.trustPem());
            assertEquals(management, pebble.managementPort());
            assertEquals(200, get(pebble.trustContext(), pebble.directoryUrl()).statusCode());
            assertNotEquals(roots.get(0), pebble.issuingRoot());
            assertEquals(List.of("kept"),
                    DnsClient.query(pebble.dnsAddress(), "_acme-challenge.restart.test", DnsClient.TYPE_TXT));

            pebble.stop();
            assertFalse(pebble.isRunning());
            assertFalse(Files.exists(trust), "the working directory is deleted");
            assertThrows(IllegalStateException.class, pebble::issuingRoots);
        }
    }

    @Test
    void missingBinaryNamesTheInstallCommand() {
        PebbleServer pebble = PebbleServer.builder().pebbleBinary(Path.of("/nonexistent/pebble")).build();

        IllegalStateException e = assertThrows(IllegalStateException.class, pebble::start);

        assertTrue(e.getMessage().contains("sudo apt-get install -y pebble"), e.getMessage());
        assertFalse(pebble.isRunning());
    }

    @Test
    void missingBinaryFromSystemPropertyNamesTheInstallCommand() {
        System.setProperty(PebbleBinaries.PEBBLE_PROPERTY, "/nonexistent/pebble");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> PebbleServer.builder().build().start());
            assertTrue(e.getMessage().contains("apt-get install"), e.getMessage());
        } finally {
            System.clearProperty(PebbleBinaries.PEBBLE_PROPERTY);
        }
    }

    @Test
    void failedStartQuotesTheProgramOutput(@TempDir Path directory) throws IOException {
        Path fake = directory.resolve("pebble");
        Files.writeString(fake, "#!/bin/sh\necho \"fake pebble refuses $1\"\nexit 3\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        Path realDns = PebbleBinaries.locate(null).challengeTestServer();
        Files.createSymbolicLink(directory.resolve("pebble-challtestsrv"), realDns);
        PebbleServer pebble = PebbleServer.builder().pebbleBinary(fake).build();

        IllegalStateException e = assertThrows(IllegalStateException.class, pebble::start);

        assertTrue(e.getMessage().contains("fake pebble refuses -config"), e.getMessage());
        assertTrue(e.getMessage().contains("exited with code 3"), e.getMessage());
        assertFalse(pebble.isRunning());
    }

    @Test
    void accessorsFailBeforeStart() {
        PebbleServer pebble = PebbleServer.builder().build();

        assertThrows(IllegalStateException.class, pebble::directoryUrl);
        assertThrows(IllegalStateException.class, pebble::trustPem);
        assertThrows(IllegalStateException.class, () -> pebble.setTxt("a.example.test", "v"));
        pebble.close();
    }

    @Test
    void builderRejectsBadSettings() {
        PebbleServer.Builder builder = PebbleServer.builder();

        assertThrows(IllegalArgumentException.class, () -> builder.nonceRejectPercent(101));
        assertThrows(IllegalArgumentException.class, () -> builder.authorizationReusePercent(-1));
        assertThrows(IllegalArgumentException.class, () -> builder.alternateRoots(-1));
        assertThrows(IllegalArgumentException.class, () -> builder.httpPort(0));
        assertThrows(IllegalArgumentException.class, () -> builder.certificateValidity(Duration.ofMillis(10)));
        assertThrows(IllegalArgumentException.class, () -> builder.externalAccountBinding("kid", "padded=="));
    }

    private static HttpResponse<String> get(SSLContext trust, URI url) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().sslContext(trust).proxy(HttpClient.Builder.NO_PROXY).build();
        return client.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString());
    }
}
