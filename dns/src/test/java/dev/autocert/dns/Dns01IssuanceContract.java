package dev.autocert.dns;

import static dev.autocert.dns.Dns01Fixtures.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.DnsServer;
import dev.autocert.testkit.PebbleServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A wildcard and apex certificate issued through Pebble, which validates DNS-01 by querying a
 * real DNS server that the {@code rfc2136} provider updates with the engine's settings and a
 * Certbot credentials file; then a rotated TSIG key, used at the next renewal by the same engine.
 * Each subclass runs it against one server, with one DNS server and one Pebble for the class.
 */
abstract class Dns01IssuanceContract {

    @TempDir
    Path storage;

    @TempDir
    Path secrets;

    /** {@return the DNS server Pebble validates through, serving {@code example.test}} */
    abstract DnsServer dns();

    /** {@return Pebble, resolving through {@link #dns()}} */
    abstract PebbleServer pebble();

    private AutocertSettings settings(String domains, Path credentials) {
        return Dns01Fixtures.rfc2136Settings(pebble(), storage, domains, credentials, "127.0.0.1:" + dns().port()).build();
    }

    @Test
    void issuesAWildcardAndApexCertificateValidatedThroughTheServer() throws Exception {
        DnsServer dns = dns();
        Path credentials = Dns01Fixtures.writeCredentials(secrets.resolve("rfc2136.ini"), dns.rfc2136Credentials());
        Dns01Fixtures.Events events = new Dns01Fixtures.Events();

        try (CertificateManager manager = CertificateManager.builder(settings("*.example.test,example.test", credentials))
                .listener(events).build()) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, "*.example.test", TIMEOUT).certificate();

            assertEquals(List.of("*.example.test", "example.test"), Dns01Fixtures.dnsNames(issued.certificate()));
            assertTrue(issued.keyMatches());
            Dns01Fixtures.verifyChain(issued.chain(), pebble().issuingRoot());
        }
        assertEquals(List.of(), dns.txt("_acme-challenge.example.test"), "both challenge values are removed");
        assertStoredNowhere(storage, dns.secret());
    }

    /** Asserts that no file under {@code storage} holds {@code secret}: only the credentials file's path may be kept. */
    static void assertStoredNowhere(Path storage, String secret) throws Exception {
        assertTrue(Files.isDirectory(storage.resolve("renewal")), "nothing was stored at all");
        try (Stream<Path> files = Files.walk(storage)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertFalse(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains(secret), "the secret is in " + file);
            }
        }
    }

    @Test
    void aRenewalReadsRotatedCredentialsWithoutANewEngine() throws Exception {
        DnsServer dns = dns();
        String name = "*.rotate.example.test";
        Path credentials = Dns01Fixtures.writeCredentials(secrets.resolve("rfc2136.ini"), dns.rfc2136Credentials());
        Dns01Fixtures.Events events = new Dns01Fixtures.Events();

        try (CertificateManager manager = CertificateManager.builder(settings(name + ",rotate.example.test", credentials))
                .listener(events).build()) {
            manager.start();
            CertifiedKey first = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();

            // The operator rotates the key on the server; the file still holds the old secret.
            String oldSecret = dns.secret();
            dns.rotateKey();
            String logged;
            AutocertException cause;
            try (LogCapture log = new LogCapture()) {
                ExecutionException stale = assertThrows(ExecutionException.class,
                        () -> manager.renew(name).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
                cause = assertInstanceOf(AutocertException.class, stale.getCause());
                events.await(e -> e.type() == CertificateEvent.Type.FAILED && e.name().equals(name), TIMEOUT);
                logged = log.text();
            }
            assertTrue(cause.getMessage().contains("NOTAUTH") || cause.getMessage().contains("REFUSED"), cause.getMessage());
            // the order failed on the wrong secret, and everything said about it was caught...
            assertTrue(logged.contains("Publishing the TXT record _acme-challenge.rotate.example.test."), logged);
            String failed = events.all().stream().filter(e -> e.type() == CertificateEvent.Type.FAILED)
                    .map(e -> e.cause().map(Throwable::getMessage).orElse("")).toList().toString();
            // ... and holds neither secret: not the failure, not its event, not a log line at any level
            for (String secret : List.of(oldSecret, dns.secret())) {
                assertFalse(cause.getMessage().contains(secret), cause.getMessage());
                assertFalse(failed.contains(secret), failed);
                assertFalse(logged.contains(secret), "a log line holds the secret");
            }

            // ... and then the file: the same engine uses it at the next renewal.
            Dns01Fixtures.writeCredentials(credentials, dns.rfc2136Credentials());
            CertifiedKey second = manager.renew(name).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

            assertEquals(2, second.version());
            assertNotEquals(first.serial(), second.serial());
            assertEquals(List.of(name, "rotate.example.test"), Dns01Fixtures.dnsNames(second.certificate()));
            Dns01Fixtures.verifyChain(second.chain(), pebble().issuingRoot());
        }
        assertEquals(List.of(), dns.txt("_acme-challenge.rotate.example.test"));
    }
}
