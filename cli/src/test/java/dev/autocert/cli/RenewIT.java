package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert renew} run as a process against a real Pebble: it renews what the engine finds
 * due and only that, keeps each certificate's own settings, exits 0, 1 or 3 as all, none or some
 * succeed, waits for a server that holds a certificate's lock, and a dry run stores nothing.
 */
class RenewIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    /** A CA that is not there: renewals from it fail at once. */
    private static final URI GONE = URI.create("https://localhost:1/dir");

    @TempDir
    Path work;

    @Test
    void renewsWhatIsDueAndReportsTheRestAsNotDue() throws Exception {
        Path storage = work.resolve("storage");
        storeDue(storage, "due.example.test", PEBBLE.directoryUrl());
        obtain(storage, "fresh.example.test");
        Path deployed = work.resolve("deployed.log");
        Path pre = work.resolve("pre.log");

        CommandRunner.Result result = renew(storage, "--pre-hook", "echo pre >> " + pre,
                "--deploy-hook", "echo \"$RENEWED_LINEAGE $RENEWED_DOMAINS\" >> " + deployed);

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("due.example.test: renewed, version 2, expires "), result.toString());
        assertTrue(result.out().contains("fresh.example.test: not due for renewal until "), result.toString());
        assertTrue(result.out().contains("1 renewed, 1 not due."), result.toString());
        X509Certificate renewed = CertonlyIT.certificates(storage.resolve("live/due.example.test/cert.pem")).get(0);
        assertTrue(renewed.getIssuerX500Principal().getName().contains("Pebble"), "issued by Pebble now");
        assertFalse(Files.exists(storage.resolve("archive/fresh.example.test/cert2.pem")), "the fresh one was not ordered");
        assertEquals(List.of("pre"), Files.readAllLines(pre), "the pre hook ran once");
        assertEquals(List.of(storage.resolve("live/due.example.test") + " due.example.test"), Files.readAllLines(deployed));

        CommandRunner.Result listed = CommandRunner.run("certificates", "--storage", storage.toString(), "--json",
                "--cert-name", "due.example.test");
        assertTrue(listed.out().contains("\"version\": 2"), listed.toString());
        assertTrue(listed.out().contains("\"lastOutcome\": {\"outcome\": \"renewed\""), listed.toString());
    }

    @Test
    void ordersNothingAndRunsNoHookWhenNothingIsDue() throws Exception {
        Path storage = work.resolve("storage");
        obtain(storage, "one.example.test");
        obtain(storage, "two.example.test");
        long orders = PEBBLE.countLogLines("POST /order-plz");
        Path pre = work.resolve("pre.log");

        CommandRunner.Result result = renew(storage, "--pre-hook", "echo pre >> " + pre);

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("2 not due."), result.toString());
        assertEquals(orders, PEBBLE.countLogLines("POST /order-plz"));
        assertFalse(Files.exists(pre), "no order, no hook");
    }

    @Test
    void forceRenewalRenewsTheNamedCertificateWithItsOwnKeyType() throws Exception {
        Path storage = work.resolve("storage");
        obtain(storage, "rsa.example.test", "--key-type", "rsa-2048");
        obtain(storage, "other.example.test");

        CommandRunner.Result result = renew(storage, "--cert-name", "rsa.example.test", "--force-renewal");

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("rsa.example.test: renewed, version 2"), result.toString());
        assertFalse(result.out().contains("other.example.test"), result.toString());
        X509Certificate renewed = CertonlyIT.certificates(storage.resolve("archive/rsa.example.test/cert2.pem")).get(0);
        assertTrue(renewed.getPublicKey() instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() == 2048,
                "renewed with the key type it was obtained with, though the default is ec-p256");
        assertFalse(Files.exists(storage.resolve("archive/other.example.test/cert2.pem")));
    }

    @Test
    void exitsThreeWhenSomeFailAndOneWhenAllFail() throws Exception {
        Path storage = work.resolve("storage");
        storeDue(storage, "ok.example.test", PEBBLE.directoryUrl());
        storeDue(storage, "gone.example.test", GONE);

        CommandRunner.Result some = renew(storage);

        assertEquals(3, some.exitCode(), some.toString());
        assertTrue(some.out().contains("ok.example.test: renewed, version 2"), some.toString());
        assertTrue(some.out().contains("1 renewed, 1 failed (gone.example.test)."), some.toString());
        assertTrue(some.err().contains("autocert: gone.example.test: renewal failed: ") && some.err().contains("localhost:1"),
                some.toString());
        assertFalse(some.err().contains("Exception") || some.err().contains("[WARN]"), some.toString());
        CommandRunner.Result listed = CommandRunner.run("certificates", "--storage", storage.toString(), "--json",
                "--cert-name", "gone.example.test");
        assertTrue(listed.out().contains("\"version\": 1"), listed.toString());
        assertTrue(listed.out().contains("\"lastOutcome\": {\"outcome\": \"failed\""), listed.toString());

        CommandRunner.Result all = renew(storage, "--cert-name", "gone.example.test");

        assertEquals(1, all.exitCode(), all.toString());
        assertTrue(all.out().contains("1 failed (gone.example.test)."), all.toString());
    }

    @Test
    void dryRunRenewsEveryCertificateAndStoresNothing() throws Exception {
        Path storage = work.resolve("storage");
        obtain(storage, "d1.example.test");
        obtain(storage, "d2.example.test");
        storeDue(storage, "d3.example.test", PEBBLE.directoryUrl());
        var before = StorageFingerprint.of(storage);
        Path marks = Files.createDirectories(work.resolve("marks"));

        CommandRunner.Result result = renew(storage, "--dry-run", "--pre-hook", "touch " + marks.resolve("pre"),
                "--post-hook", "touch " + marks.resolve("post"), "--deploy-hook", "touch " + marks.resolve("deploy"));

        assertEquals(0, result.exitCode(), result.toString());
        for (String name : List.of("d1", "d2", "d3")) {
            assertTrue(result.out().contains(name + ".example.test: simulated renewal succeeded"), result.toString());
        }
        assertTrue(result.out().contains("3 simulated renewals succeeded."), result.toString());
        assertEquals(before, StorageFingerprint.of(storage), "storage byte for byte as it was");
        assertTrue(Files.exists(marks.resolve("pre")) && Files.exists(marks.resolve("post")));
        assertFalse(Files.exists(marks.resolve("deploy")));
    }

    @Test
    void waitsForAServerThatHoldsTheCertificatesLock() throws Exception {
        Path storage = work.resolve("storage");
        obtain(storage, "locked.example.test");
        // A server on the same storage (this process) is ordering it: it holds the certificate's lock for 3 s.
        dev.autocert.core.Storage.Lock lock = new dev.autocert.core.FileStorage(storage)
                .tryLock("certificate-locked.example.test", Duration.ofMinutes(1)).orElseThrow();
        Instant released = Instant.now().plusSeconds(3);
        Thread release = new Thread(() -> {
            try {
                Thread.sleep(3000);
                lock.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        release.start();
        Instant start = Instant.now();

        CommandRunner.Result result = renew(storage, "--cert-name", "locked.example.test", "--force-renewal");

        release.join();
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(Duration.between(start, Instant.now()).toMillis() >= 3000, "it waited for the lock");
        assertTrue(result.out().contains("locked.example.test: renewed, version 2"), result.toString());
        String meta = Files.readString(storage.resolve("renewal/locked.example.test.properties")).replace("\\:", ":");
        Instant stored = Instant.parse(meta.lines().filter(l -> l.startsWith("stored=")).findFirst().orElseThrow().substring(7));
        assertFalse(stored.isBefore(released.minusMillis(200)), "version 2 was stored only once the server released its lock");
    }

    @Test
    void renewsWithTheWebrootCertonlyWasGivenAsCertbotDoes() throws Exception {
        Path storage = work.resolve("storage");
        Path webroot = Files.createDirectories(work.resolve("www"));
        // The web server holds the HTTP-01 port throughout: a standalone responder could not listen there.
        try (CertonlyIT.WebServer web = new CertonlyIT.WebServer(webroot, PEBBLE.httpPort())) {
            obtain(storage, "web.example.test", "--webroot", webroot.toString());
            int served = web.served.get();

            CommandRunner.Result result = renew(storage, "--force-renewal");

            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(result.out().contains("web.example.test: renewed, version 2"), result.toString());
            // Pebble reuses the valid authorization about once in a hundred orders (even with
            // PEBBLE_AUTHZREUSE=0), validating nothing: then the next renewal is validated.
            for (int version = 3; web.served.get() == served && version <= 4; version++) {
                CommandRunner.Result again = renew(storage, "--force-renewal");
                assertTrue(again.out().contains("web.example.test: renewed, version " + version), again.toString());
            }
            assertTrue(web.served.get() > served, "answered through the web root again");

            CommandRunner.Result standalone = renew(storage, "--force-renewal", "--standalone");

            assertEquals(1, standalone.exitCode(), "--standalone replaces the recorded web root, and the port is taken: "
                    + standalone);
            assertTrue(standalone.err().contains("autocert.http-port: cannot listen on port " + PEBBLE.httpPort()), standalone.toString());
        }
    }

    @Test
    void replacesARevokedCertificateThoughItIsNotDue() throws Exception {
        Path storage = work.resolve("storage");
        obtain(storage, "revoked.example.test");
        List<String> revoke = new ArrayList<>(List.of("revoke", "--storage", storage.toString(), "--cert-name", "revoked.example.test"));
        revoke.addAll(pebble());
        CommandRunner.Result revoked = CommandRunner.run(revoke.toArray(String[]::new));
        assertEquals(0, revoked.exitCode(), revoked.toString());

        CommandRunner.Result result = renew(storage);

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("revoked.example.test: renewed, version 2"), result.toString());
        CommandRunner.Result listed = CommandRunner.run("certificates", "--storage", storage.toString(), "--json");
        assertTrue(listed.out().contains("\"valid\": true, \"revoked\": null"), listed.toString());
    }

    @Test
    void domainsAreAUsageError() throws Exception {
        CommandRunner.Result result = renew(work.resolve("storage"), "-d", "x.example.test");

        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.err().contains("--domains: renew works on the stored certificates"), result.toString());
    }

    @Test
    void anUnknownCertNameExitsOne() throws Exception {
        Path storage = work.resolve("storage");
        obtain(storage, "known.example.test");

        CommandRunner.Result result = renew(storage, "--cert-name", "unknown.example.test");

        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.err().contains("--cert-name: no certificate named 'unknown.example.test' in " + storage), result.toString());
    }

    private static void obtain(Path storage, String name, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("certonly", "--storage", storage.toString(), "-d", name));
        args.addAll(pebble());
        args.addAll(List.of(extra));
        CommandRunner.Result result = CommandRunner.run(args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result.toString());
    }

    /** {@code autocert renew}: the CA of each certificate is its own, so only trust, port and terms are given. */
    private static CommandRunner.Result renew(Path storage, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("renew", "--storage", storage.toString()));
        Map<String, String> settings = PEBBLE.autocertProperties();
        args.addAll(List.of("--ca-trust", settings.get("autocert.ca-trust"), "--http-port", settings.get("autocert.http-port"),
                "--agree-tos"));
        args.addAll(Arrays.asList(extra));
        return CommandRunner.run(args.toArray(String[]::new));
    }

    private static List<String> pebble() {
        List<String> args = new ArrayList<>();
        PEBBLE.autocertProperties().forEach((key, value) -> {
            args.add("--" + key.substring("autocert.".length()));
            args.add(value);
        });
        return args;
    }

    /**
     * Stores a self-signed certificate for {@code name} as version 1 of its lineage, recorded as
     * issued through {@code ca}, with 10 of its 90 days left: due by the lifetime rule.
     */
    private static void storeDue(Path storage, String name, URI ca) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair key = generator.generateKeyPair();
        Instant notAfter = Instant.now().plus(Duration.ofDays(10));
        X500Name subject = new X500Name("CN=" + name);
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(System.nanoTime()),
                Date.from(notAfter.minus(Duration.ofDays(90))), Date.from(notAfter), subject, key.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, name)));
        X509Certificate cert = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
        byte[] certPem = pem("CERTIFICATE", cert.getEncoded());
        byte[] keyPem = pem("PRIVATE KEY", key.getPrivate().getEncoded());
        Path archive = Files.createDirectories(storage.resolve("archive").resolve(name));
        Path live = Files.createDirectories(storage.resolve("live").resolve(name));
        for (Path dir : List.of(archive, live)) {
            String version = dir.equals(archive) ? "1" : "";
            Files.write(dir.resolve("cert" + version + ".pem"), certPem);
            Files.write(dir.resolve("chain" + version + ".pem"), new byte[0]);
            Files.write(dir.resolve("fullchain" + version + ".pem"), certPem);
            Files.write(dir.resolve("privkey" + version + ".pem"), keyPem);
        }
        String meta = "version=1\nca=" + ca.toString().replace(":", "\\:") + "\ndomains=" + name + "\nkey-type=ec-p256\n"
                + "stored=" + Instant.now().toString().replace(":", "\\:") + "\nari=false\n";
        Files.writeString(Files.createDirectories(storage.resolve("renewal")).resolve(name + ".properties"), meta);
    }

    private static byte[] pem(String type, byte[] der) {
        return ("-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n").getBytes(StandardCharsets.US_ASCII);
    }
}
