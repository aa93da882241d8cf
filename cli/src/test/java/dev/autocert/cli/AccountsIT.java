package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.Http01Tokens;
import dev.autocert.testkit.PebbleServer;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

/**
 * The account verbs ({@code register}, {@code show_account}, {@code update_account},
 * {@code unregister}) run as a process against a real Pebble, checked against what Pebble itself
 * reports of the account and against the engine ordering on the same storage.
 */
class AccountsIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** What every run printed, checked at the end for key material. */
    private static final List<CommandRunner.Result> OUTPUTS = new CopyOnWriteArrayList<>();
    /** Every account key the tests saw in storage, as PEM. */
    private static final List<String> KEYS = new CopyOnWriteArrayList<>();
    /** Challenge answers of the engines the tests run, on Pebble's HTTP-01 port. */
    private static final List<Http01Tokens> TOKENS = new CopyOnWriteArrayList<>();
    private static final List<HttpServer> RESPONDERS = new ArrayList<>();

    @TempDir
    Path storage;

    @BeforeAll
    static void answerChallenges() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), PEBBLE.httpPort()), 16);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getRawPath();
            Optional<String> body = TOKENS.stream().map(t -> t.respond(path)).flatMap(Optional::stream).findFirst();
            byte[] bytes = body.orElse("").getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(body.isPresent() ? 200 : 404, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        RESPONDERS.add(server);
    }

    @AfterAll
    static void printedNoKeyMaterial() {
        RESPONDERS.forEach(server -> server.stop(0));
        assertFalse(KEYS.isEmpty());
        for (CommandRunner.Result result : OUTPUTS) {
            String printed = result.out() + result.err();
            assertFalse(printed.contains("PRIVATE KEY"), result::toString);
            for (String pem : KEYS) {
                for (String line : pem.split("\n")) {
                    if (!line.startsWith("-----") && line.length() >= 16) {
                        assertFalse(printed.contains(line), () -> "key material printed:\n" + result);
                    }
                }
            }
        }
    }

    @Test
    void registerThenShowAccountShowsUrlAndContact() throws Exception {
        CommandRunner.Result registered = autocert("register", "--agree-tos", "-m", "admin@example.test");
        assertEquals(0, registered.exitCode(), registered::toString);
        String url = storedUrl();
        assertTrue(url.startsWith("https://localhost:"), url);
        assertTrue(registered.out().contains("Account registered at " + PEBBLE.directoryUrl()), registered::toString);
        assertTrue(registered.out().contains("Account URL: " + url), registered::toString);
        assertTrue(registered.out().contains("Email contact: admin@example.test"), registered::toString);

        CommandRunner.Result shown = autocert("show_account");
        assertEquals(0, shown.exitCode(), shown::toString);
        assertTrue(shown.out().contains("Account details for server " + PEBBLE.directoryUrl() + ":"), shown::toString);
        assertTrue(shown.out().contains("  Account URL: " + url + "\n"), shown::toString);
        assertTrue(shown.out().contains("  Email contact: admin@example.test\n"), shown::toString);
        assertTrue(shown.out().contains("  Status: valid\n"), shown::toString);
        assertTrue(shown.out().contains("  Key type: ec-p256\n"), shown::toString);
        assertTrue(shown.out().contains("  Account Thumbprint: " + thumbprint(storedKey()) + "\n"), shown::toString);

        CommandRunner.Result json = autocert("show_account", "--json");
        assertEquals(0, json.exitCode(), json::toString);
        assertEquals("{\"ca\":\"" + PEBBLE.directoryUrl() + "\",\"url\":\"" + url + "\",\"status\":\"valid\","
                + "\"contacts\":[\"mailto:admin@example.test\"],\"emails\":[\"admin@example.test\"],\"keyType\":\"ec-p256\","
                + "\"keyThumbprint\":\"" + thumbprint(storedKey()) + "\"}\n", json.out());
        assertEquals("", json.err());

        assertEquals(List.of(URI.create("mailto:admin@example.test")), pebbleAccount(storedKey(), url).getContacts());
        assertPrivate();
    }

    @Test
    void registerTwiceExitsOneAndKeepsTheAccount() throws Exception {
        assertEquals(0, autocert("register", "--agree-tos", "-m", "admin@example.test").exitCode());
        String url = storedUrl();
        String key = Files.readString(keyFile());

        CommandRunner.Result again = autocert("register", "--agree-tos", "-m", "other@example.test");
        assertEquals(1, again.exitCode(), again::toString);
        assertTrue(again.err().contains("There is an existing account at " + PEBBLE.directoryUrl()), again::toString);
        assertTrue(again.err().contains(url), again::toString);
        assertTrue(again.err().contains("update_account") && again.err().contains("unregister"), "names the fix: " + again);
        assertEquals(url, storedUrl());
        assertEquals(key, Files.readString(keyFile()));
    }

    @Test
    void registerNamesWhatIsMissing() throws Exception {
        CommandRunner.Result noEmail = autocert("register", "--agree-tos");
        assertEquals(2, noEmail.exitCode(), noEmail::toString);
        assertTrue(noEmail.err().contains("--register-unsafely-without-email"), noEmail::toString);

        CommandRunner.Result noTerms = autocert("register", "-m", "admin@example.test");
        assertEquals(1, noTerms.exitCode(), noTerms::toString);
        assertTrue(noTerms.err().contains("autocert.agree-tos") && noTerms.err().contains("terms of service"), noTerms::toString);
        assertFalse(Files.exists(storage.resolve(accountDirectory()).resolve("account.properties")), "nothing registered");

        CommandRunner.Result nothingYet = autocert("show_account");
        assertEquals(1, nothingYet.exitCode(), nothingYet::toString);
        assertTrue(nothingYet.err().contains("Could not find an existing account for " + PEBBLE.directoryUrl()), nothingYet::toString);
        assertTrue(nothingYet.err().contains("autocert register"), nothingYet::toString);

        CommandRunner.Result unsafe = autocert("register", "--agree-tos", "--register-unsafely-without-email");
        assertEquals(0, unsafe.exitCode(), unsafe::toString);
        assertTrue(unsafe.out().contains("Email contact: none"), unsafe::toString);
        assertEquals(List.of(), pebbleAccount(storedKey(), storedUrl()).getContacts());
    }

    @Test
    void updateAccountEmailChangesTheContactAtTheCa() throws Exception {
        assertEquals(0, autocert("register", "--agree-tos", "-m", "old@example.test").exitCode());
        String url = storedUrl();

        CommandRunner.Result nothing = autocert("update_account");
        assertEquals(2, nothing.exitCode(), nothing::toString);
        assertTrue(nothing.err().contains("--email") && nothing.err().contains("--rollover-key"), nothing::toString);

        Path config = storage.resolveSibling(storage.getFileName() + "-server.properties");
        Files.writeString(config, "autocert.email=old@example.test\n");
        CommandRunner.Result updated = autocert("update_account", "--config", config.toString(), "--email", "new@example.test");
        assertEquals(0, updated.exitCode(), updated::toString);
        assertTrue(updated.out().contains("Your e-mail address was updated to new@example.test."), updated::toString);
        assertTrue(updated.err().contains("still sets autocert.email=old@example.test"), "warns of the server's setting: " + updated);

        assertEquals(List.of(URI.create("mailto:new@example.test")), pebbleAccount(storedKey(), url).getContacts());
        CommandRunner.Result shown = autocert("show_account");
        assertTrue(shown.out().contains("  Email contact: new@example.test\n"), shown::toString);
        assertEquals(url, storedUrl(), "the same account");
        assertEquals("mailto:new@example.test", storedProperties().getProperty("contact"));
    }

    @Test
    void keyRolloverKeepsTheAccountAndTheEngineOrdersWithTheNewKey() throws Exception {
        assertEquals(0, autocert("register", "--agree-tos", "-m", "admin@example.test").exitCode());
        String url = storedUrl();
        KeyPair oldKey = storedKey();
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties())
                .domains("rollover.example.test").email("admin@example.test").storage(storage)
                .startupWait(TIMEOUT).build();

        try (CertificateManager running = serve(CertificateManager.builder(settings).build())) {
            running.start(); // a server that logged in with the old key and keeps its login
            assertEquals(1, running.certificate("rollover.example.test").orElseThrow().version());

            CommandRunner.Result rolled = autocert("update_account", "--rollover-key");
            assertEquals(0, rolled.exitCode(), rolled::toString);
            KeyPair newKey = storedKey();
            assertNotEquals(thumbprint(oldKey), thumbprint(newKey));
            assertTrue(rolled.out().contains("(thumbprint " + thumbprint(newKey) + ")"), rolled::toString);
            assertEquals(url, storedUrl(), "the same account, by its new key");
            assertFalse(Files.exists(storage.resolve(accountDirectory()).resolve("account-rollover.key")));
            assertPrivate();

            assertEquals(Status.VALID, pebbleAccount(newKey, url).getStatus());
            assertThrows(AcmeServerException.class, () -> pebbleAccount(oldKey, url), "the CA no longer accepts the old key");

            CertifiedKey renewed = running.renew("rollover.example.test").get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(2, renewed.version(), "the running engine renews with the new key");
        }
        try (CertificateManager fresh = serve(CertificateManager.builder(settings).build())) {
            fresh.start();
            CertifiedKey renewed = fresh.renew("rollover.example.test").get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(3, renewed.version(), "a new engine on the same storage renews with the new key");
        }
        assertEquals(url, storedUrl(), "no new account was registered");

        CommandRunner.Result shown = autocert("show_account");
        assertTrue(shown.out().contains("Account Thumbprint: " + thumbprint(storedKey())), shown::toString);
    }

    @Test
    void anInterruptedRolloverIsFinishedByTheNextOne() throws Exception {
        assertEquals(0, autocert("register", "--agree-tos", "-m", "admin@example.test").exitCode());
        String url = storedUrl();
        KeyPair oldKey = storedKey();
        Path pending = storage.resolve(accountDirectory()).resolve("account-rollover.key");

        // A rollover the CA never took: its key is dropped, and the rollover goes ahead.
        Files.writeString(pending, pem(KeyPairs.ecP256()));
        CommandRunner.Result afterStale = autocert("update_account", "--rollover-key");
        assertEquals(0, afterStale.exitCode(), afterStale::toString);
        assertFalse(Files.exists(pending));
        KeyPair second = storedKey();
        assertEquals(Status.VALID, pebbleAccount(second, url).getStatus());

        // A rollover the CA took but storage never recorded (the process died in between).
        KeyPair taken = KeyPairs.ecP256();
        Files.writeString(pending, pem(taken));
        pebbleLogin(second, url).getAccount().changeKey(taken);
        CommandRunner.Result afterTaken = autocert("update_account", "--rollover-key");
        assertEquals(0, afterTaken.exitCode(), afterTaken::toString);
        assertFalse(Files.exists(pending));
        KeyPair fourth = storedKey();
        assertNotEquals(thumbprint(taken), thumbprint(fourth));
        assertNotEquals(thumbprint(oldKey), thumbprint(fourth));
        assertEquals(Status.VALID, pebbleAccount(fourth, url).getStatus());
        assertEquals(url, storedUrl());
        assertPrivate();
    }

    @Test
    void unregisterDeactivatesAtTheCaAndRemovesTheAccount() throws Exception {
        assertEquals(0, autocert("register", "--agree-tos", "-m", "admin@example.test").exitCode());
        String url = storedUrl();
        KeyPair key = storedKey();

        CommandRunner.Result unconfirmed = autocert("unregister");
        assertEquals(2, unconfirmed.exitCode(), unconfirmed::toString);
        assertTrue(unconfirmed.err().contains("-n (--non-interactive)"), unconfirmed::toString);
        assertEquals(Status.VALID, pebbleAccount(key, url).getStatus(), "not deactivated without confirmation");
        assertEquals(url, storedUrl());

        CommandRunner.Result unregistered = autocert("unregister", "-n");
        assertEquals(0, unregistered.exitCode(), unregistered::toString);
        assertTrue(unregistered.out().contains("Account deactivated: " + url), unregistered::toString);
        AcmeServerException refused = assertThrows(AcmeServerException.class, () -> pebbleAccount(key, url));
        assertTrue(refused.getType().toString().endsWith(":unauthorized") || refused.getType().toString().endsWith(":accountDoesNotExist"),
                refused.getType()::toString);
        assertFalse(Files.exists(keyFile()), "the key is gone from storage");
        assertFalse(Files.exists(storage.resolve(accountDirectory()).resolve("account.properties")));

        CommandRunner.Result shown = autocert("show_account");
        assertEquals(1, shown.exitCode(), shown::toString);
        CommandRunner.Result again = autocert("unregister", "-n");
        assertEquals(1, again.exitCode(), again::toString);

        // An engine on this storage registers a new account at its next order.
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties())
                .domains("after-unregister.example.test").email("admin@example.test").storage(storage)
                .startupWait(TIMEOUT).build();
        try (CertificateManager manager = serve(CertificateManager.builder(settings).build())) {
            manager.start();
            assertFalse(manager.certificate("after-unregister.example.test").orElseThrow().placeholder());
        }
        assertNotEquals(url, storedUrl());
    }

    // ---------------------------------------------------------------- helpers

    /** Runs {@code autocert VERB} with Pebble and this test's storage, and records what it printed. */
    private CommandRunner.Result autocert(String verb, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(verb, "--ca", PEBBLE.directoryUrl().toString(),
                "--ca-trust", PEBBLE.trustPem().toString(), "--storage", storage.toString()));
        command.addAll(List.of(args));
        CommandRunner.Result result = CommandRunner.run(command.toArray(String[]::new));
        OUTPUTS.add(result);
        if (Files.exists(keyFile())) {
            KEYS.add(Files.readString(keyFile()));
        }
        return result;
    }

    private static CertificateManager serve(CertificateManager manager) {
        TOKENS.add(manager.http01Tokens());
        return manager;
    }

    private static String accountDirectory() {
        URI ca = PEBBLE.directoryUrl();
        return "accounts/" + ca.getHost() + "_" + ca.getPort() + ca.getPath().replace('/', '_');
    }

    private Path keyFile() {
        return storage.resolve(accountDirectory()).resolve("account.key");
    }

    private Properties storedProperties() throws Exception {
        Properties properties = new Properties();
        properties.load(new ByteArrayInputStream(Files.readAllBytes(storage.resolve(accountDirectory()).resolve("account.properties"))));
        return properties;
    }

    private String storedUrl() throws Exception {
        return storedProperties().getProperty("location");
    }

    private KeyPair storedKey() throws Exception {
        try (PEMParser parser = new PEMParser(Files.newBufferedReader(keyFile()))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            PrivateKey privateKey = converter.getPrivateKey((PrivateKeyInfo) parser.readObject());
            PublicKey publicKey = converter.getPublicKey((SubjectPublicKeyInfo) parser.readObject());
            return new KeyPair(publicKey, privateKey);
        }
    }

    /** The account key file is 0600 and every directory holding it 0700. */
    private void assertPrivate() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile())));
        for (Path dir = keyFile().getParent(); !dir.equals(storage); dir = dir.getParent()) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)), dir::toString);
        }
    }

    private static String thumbprint(KeyPair key) {
        return java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(org.shredzone.acme4j.toolbox.JoseUtils.thumbprint(key.getPublic()));
    }

    /** The account as Pebble reports it to {@code key} (a POST-as-GET of {@code url}). */
    private static Account pebbleAccount(KeyPair key, String url) throws Exception {
        Account account = pebbleLogin(key, url).getAccount();
        account.fetch();
        return account;
    }

    private static Login pebbleLogin(KeyPair key, String url) throws Exception {
        Session session = new Session(PEBBLE.directoryUrl(), new GenericAcmeProvider() {
            @Override
            public HttpClient createHttpClient(NetworkSettings settings) {
                return HttpClient.newBuilder().sslContext(PEBBLE.trustContext()).connectTimeout(Duration.ofSeconds(10)).build();
            }
        });
        return session.login(URI.create(url).toURL(), key);
    }

    /** A key pair as Autocert stores it: PKCS#8 private key, then the public key. */
    private static String pem(KeyPair key) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(new PemObject("PRIVATE KEY", key.getPrivate().getEncoded()));
            writer.writeObject(new PemObject("PUBLIC KEY", key.getPublic().getEncoded()));
        }
        return out.toString();
    }

    private static final class KeyPairs {
        static KeyPair ecP256() throws Exception {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        }
    }
}
