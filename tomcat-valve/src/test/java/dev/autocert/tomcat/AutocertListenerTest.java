package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.ChallengeType;
import dev.autocert.core.KeyType;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.apache.catalina.LifecycleException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutocertListenerTest {

    @Test
    void mapsEveryAttributeToItsSetting(@TempDir Path dir) throws Exception {
        Path pem = dir.resolve("ca.pem");
        Files.writeString(pem, somePemCertificate());
        AutocertListener listener = new AutocertListener();
        listener.setDomains("example.test,www.example.test;api.example.test");
        listener.setEmail("admin@example.test");
        listener.setAgreeTos("true");
        listener.setCa("https://ca.example.test/directory");
        listener.setCaTrust(pem.toString());
        listener.setStorage(dir.resolve("certs").toString());
        listener.setKeyType("rsa-3072");
        listener.setChallenges("dns-01,http-01");
        listener.setHttpPort("8080");
        listener.setRedirectPort("443");
        listener.setProfile("shortlived");
        listener.setEabKid("kid-1");
        listener.setEabHmacKey("c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cw");
        listener.setPreferredChain("Root X2");
        listener.setStartupWait("90s");
        listener.setPlaceholderAlert("30m");
        listener.setStatusPath("/autocert-status");
        listener.setHsts("on");

        AutocertSettings settings = listener.settings(dir.resolve("base"));

        assertEquals(List.of(List.of("example.test", "www.example.test"), List.of("api.example.test")),
                settings.certificates().stream().map(c -> c.domains()).toList());
        assertEquals("admin@example.test", settings.email().orElseThrow());
        assertTrue(settings.agreeTos());
        assertEquals(URI.create("https://ca.example.test/directory"), settings.ca());
        assertEquals(pem, settings.caTrust().orElseThrow());
        assertEquals(dir.resolve("certs"), settings.storage().orElseThrow());
        assertEquals(KeyType.RSA_3072, settings.keyType());
        assertEquals(List.of(ChallengeType.DNS_01, ChallengeType.HTTP_01), settings.challenges());
        assertEquals(8080, settings.httpPort());
        assertEquals(443, settings.redirectPort().orElseThrow());
        assertEquals("shortlived", settings.profile().orElseThrow());
        assertEquals("kid-1", settings.eabKid().orElseThrow());
        assertEquals("c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cw", settings.eabHmacKey().orElseThrow());
        assertEquals("Root X2", settings.preferredChain().orElseThrow());
        assertEquals(Duration.ofSeconds(90), settings.startupWait());
        assertEquals(Duration.ofMinutes(30), settings.placeholderAlert());
        assertEquals("/autocert-status", settings.statusPath().orElseThrow());
        assertEquals("max-age=31536000", settings.hsts().orElseThrow());
    }

    @Test
    void keepsStorageUnderCatalinaBaseByDefault(@TempDir Path dir) {
        AutocertListener listener = new AutocertListener();
        listener.setDomains("example.test");
        listener.setCa("https://ca.example.test/directory");
        listener.setStorage("");

        assertEquals(dir.resolve("autocert"), listener.settings(dir).storage().orElseThrow());
    }

    @Test
    void resolvesRelativePathsAgainstCatalinaBase(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/ca.pem"), somePemCertificate());
        AutocertListener listener = new AutocertListener();
        listener.setDomains("example.test");
        listener.setCa("https://ca.example.test/directory");
        listener.setCaTrust("conf/ca.pem");
        listener.setStorage("data/autocert");

        AutocertSettings settings = listener.settings(dir);

        assertEquals(dir.resolve("conf/ca.pem"), settings.caTrust().orElseThrow());
        assertEquals(dir.resolve("data/autocert"), settings.storage().orElseThrow());
    }

    @Test
    void failsStartupNamingTheAttribute(@TempDir Path dir) throws Exception {
        AutocertListener listener = new AutocertListener();
        listener.setDomains("example.test");
        listener.setAgreeTos("true");
        listener.setKeyType("ec256");

        String message = startupFailure(dir, listener);

        assertTrue(message.startsWith("AutocertListener attribute keyType in server.xml: autocert.key-type: "), message);
        assertTrue(message.contains("'ec256'"), message);
    }

    @Test
    void failsStartupWithoutDomains(@TempDir Path dir) throws Exception {
        AutocertListener listener = new AutocertListener();
        listener.setAgreeTos("true");

        String message = startupFailure(dir, listener);

        assertTrue(message.startsWith("AutocertListener attribute domains in server.xml: autocert.domains: required"), message);
    }

    @Test
    void failsStartupWhenNotInsideServer(@TempDir Path dir) throws Exception {
        AutocertListener listener = new AutocertListener();
        listener.setDomains("example.test");
        try (TestTomcat server = TestTomcat.plain(dir, TestTomcat.freePort())) {
            server.tomcat.getEngine().addLifecycleListener(listener);
            LifecycleException failure = assertThrows(LifecycleException.class, server::start);
            assertTrue(rootMessage(failure).contains("AutocertListener belongs directly inside <Server>"), rootMessage(failure));
        }
    }

    private static String startupFailure(Path dir, AutocertListener listener) throws Exception {
        try (TestTomcat server = TestTomcat.plain(dir, TestTomcat.freePort())) {
            server.tomcat.getServer().addLifecycleListener(listener);
            return rootMessage(assertThrows(LifecycleException.class, server::start));
        }
    }

    /** The message of the listener's exception, below Tomcat's "Failed to initialize component". */
    private static String rootMessage(Throwable failure) {
        Throwable cause = failure;
        while (cause.getCause() != null && !(cause instanceof IllegalArgumentException || cause instanceof IllegalStateException)) {
            cause = cause.getCause();
        }
        return cause.getMessage();
    }

    /** Any certificate, as PEM: the first of the JDK's trust store. */
    private static String somePemCertificate() throws Exception {
        KeyStore cacerts = KeyStore.getInstance(KeyStore.getDefaultType());
        try (InputStream in = Files.newInputStream(Path.of(System.getProperty("java.home"), "lib", "security", "cacerts"))) {
            cacerts.load(in, null);
        }
        Certificate certificate = cacerts.getCertificate(cacerts.aliases().nextElement());
        return "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }
}
