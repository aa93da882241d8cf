package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.BindServer;
import dev.autocert.core.EngineMBeanCheck;
import dev.autocert.testkit.JmxProbe;
import dev.autocert.testkit.OpenBaoServer;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A stock Tomcat distribution, set up exactly as docs/tomcat.md tells a user and run as its own
 * process with {@code bin/catalina.sh run}: the bundle unzipped into {@code $CATALINA_BASE},
 * the JAR scanner told to skip it, the Listener in server.xml, an HTTP connector on the
 * HTTP-01 port and an HTTPS connector without a certificate. Only the ports (free loopback
 * ports) and the CA (Pebble, by a system property in setenv.sh) differ from the guide.
 *
 * <p>Needs the packaged bundle and the unpacked distribution: runs in Maven's integration-test
 * phase, which passes their locations as system properties.
 */
class TomcatDistributionIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    /** For DNS-01: a real BIND, and a Pebble that validates by querying it. */
    @RegisterExtension
    @Order(1)
    static final BindServer DNS = BindServer.builder().build();

    @RegisterExtension
    @Order(2)
    static final PebbleServer DNS_PEBBLE = PebbleServer.builder().dnsServer(DNS.address()).build();

    @RegisterExtension
    static final OpenBaoServer OPENBAO = OpenBaoServer.builder().build();

    private static final String NAME = "tomcat.example.test";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path home = Path.of(System.getProperty("autocert.it.tomcat-home", "target/tomcat-distribution/missing"));
    private final Path bundle = Path.of(System.getProperty("autocert.it.bundle", "target/missing-lib.zip"));
    private Path base;
    private int httpsPort;
    private int shutdownPort;
    private Process tomcat;

    @BeforeEach
    void makeCatalinaBase() throws Exception {
        assertTrue(Files.isRegularFile(home.resolve("bin/catalina.sh")), "no Tomcat distribution at " + home + "; run mvn verify");
        assertTrue(Files.isRegularFile(bundle), "no bundle at " + bundle + "; run mvn verify");
        Path work = Path.of(System.getProperty("autocert.it.work", "target")).resolve("it");
        Files.createDirectories(work);
        base = Files.createTempDirectory(work, "catalina-base-");
        Files.delete(base); // makebase.sh wants to create it
        run(List.of("sh", home.resolve("bin/makebase.sh").toString(), base.toString()));
        Files.writeString(base.resolve("webapps/ROOT/index.html"), "Hello from a stock Tomcat\n");
        httpsPort = TestTomcat.freePort();
        do {
            shutdownPort = TestTomcat.freePort(); // a port just released may be handed out twice
        } while (shutdownPort == httpsPort);
    }

    @AfterEach
    void stopTomcat() throws Exception {
        stop();
        PEBBLE.start(); // the CA again, for the next test, after a test that stopped it
        // Keep conf/ and logs/ to look at; the 11 MB of jars would pile up run after run.
        try (var jars = Files.list(base.resolve("lib"))) {
            for (Path jar : jars.toList()) {
                Files.delete(jar);
            }
        }
    }

    @Test
    void obtainsACertificateAndServesItAgainAfterARestartWithoutTheCa() throws Exception {
        installAsTheGuideSays(" statusPath=\"/autocert-status\" hsts=\"on\"");
        Files.copy(PEBBLE.trustPem(), base.resolve("conf/pebble-ca.pem"));
        KeyStore roots = PEBBLE.issuingTrustStore(); // Pebble makes new roots when it starts again

        start();
        awaitStarted();
        X509Certificate issued = TestHttpClient.awaitVerified(httpsPort, NAME, roots);
        try (TestHttpClient.Connection connection = TestHttpClient.https(httpsPort, NAME, roots)) {
            TestHttpClient.Response response = connection.request("GET", "/", NAME);
            assertEquals(200, response.status());
            assertEquals("Hello from a stock Tomcat\n", response.body());
            assertEquals("max-age=31536000", response.header("strict-transport-security"));
            TestHttpClient.Response status = connection.request("GET", "/autocert-status", NAME);
            assertEquals(200, status.status(), status.body());
            assertEquals("application/json", status.header("content-type"));
            assertEquals("max-age=31536000", status.header("strict-transport-security"));
            assertTrue(status.body().contains("\"name\":\"" + NAME + "\""), status.body());
            assertTrue(status.body().contains("\"serial\":\"" + issued.getSerialNumber().toString(16) + "\""), status.body());
        }
        // Plain HTTP: neither the page (the stock ROOT application has no such file) nor the header.
        try (TestHttpClient.Connection connection = TestHttpClient.http(PEBBLE.httpPort())) {
            TestHttpClient.Response response = connection.request("GET", "/autocert-status", NAME);
            assertEquals(404, response.status());
            assertNull(response.header("strict-transport-security"));
        }
        String firstRun = console();
        assertTrue(firstRun.contains("Certificate " + NAME + " not in storage yet; serving a self-signed placeholder"), firstRun);
        assertTrue(firstRun.contains("Certificate " + NAME + " obtained from "), firstRun);
        assertFalse(firstRun.contains("PRIVATE KEY"));
        assertTrue(Files.isRegularFile(base.resolve("autocert/live/" + NAME + "/fullchain.pem")), "stored under $CATALINA_BASE/autocert");
        stop();

        PEBBLE.stop();
        Files.move(base.resolve("logs/console.txt"), base.resolve("logs/console-1.txt"), StandardCopyOption.REPLACE_EXISTING);
        start();
        awaitStarted();
        try (TestHttpClient.Connection connection = TestHttpClient.https(httpsPort, NAME, roots)) {
            assertEquals(issued, connection.served().get(0), "the stored certificate, at once");
            assertEquals(200, connection.request("GET", "/", NAME).status());
        }
        String secondRun = console();
        assertTrue(secondRun.contains("Certificate " + NAME + " loaded from storage"), secondRun);
        assertFalse(secondRun.contains("placeholder"), secondRun);
        assertFalse(secondRun.contains("failed"), secondRun);
    }

    /**
     * The metrics of issue 13 on plain Tomcat: with the JDK's JMX agent on a loopback port in
     * setenv.sh, as docs/operations.md shows, the process has the engine's MXBean under the
     * certificate's name, beside Tomcat's own, with what the engine did to get the served certificate.
     */
    @Test
    void showsTheCertificateAndTheEnginesCountsOverRemoteJmx() throws Exception {
        installAsTheGuideSays("");
        Files.copy(PEBBLE.trustPem(), base.resolve("conf/pebble-ca.pem"));
        int jmxPort;
        do {
            jmxPort = TestTomcat.freePort(); // a port just released may be handed out twice
        } while (jmxPort == httpsPort || jmxPort == shutdownPort || jmxPort == PEBBLE.httpPort());
        Files.writeString(base.resolve("bin/setenv.sh"), "CATALINA_OPTS=\"$CATALINA_OPTS " + String.join(" ", JmxProbe.jvmOptions(jmxPort))
                + "\"\n", StandardOpenOption.APPEND);

        start();
        awaitStarted();
        X509Certificate issued = TestHttpClient.awaitVerified(httpsPort, NAME, PEBBLE.issuingTrustStore());
        try (JmxProbe.Connection jmx = JmxProbe.connect(jmxPort, START_TIMEOUT)) {
            assertEquals(1, jmx.names("Catalina:type=Server").size(), "Tomcat's own MBean server, the platform one");
            EngineMBeanCheck.afterFirstOrder(jmx, NAME, issued, offersAri(PEBBLE));
        }
    }

    @Test
    void obtainsAWildcardCertificateOverDns01() throws Exception {
        Path credentials = base.resolve("conf/autocert-rfc2136.ini");
        Files.writeString(credentials, DNS.rfc2136Credentials());
        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-------"));
        installAsTheGuideSays(DNS_PEBBLE, "*.example.test,example.test", " challenges=\"dns-01\" dnsProvider=\"rfc2136\""
                + " dnsCredentials=\"conf/autocert-rfc2136.ini\" dnsPropagationCheck=\"resolvers\""
                + " dnsResolvers=\"127.0.0.1:" + DNS.port() + "\"");
        Files.copy(DNS_PEBBLE.trustPem(), base.resolve("conf/pebble-ca.pem"));

        start();
        awaitStarted();
        X509Certificate issued = TestHttpClient.awaitVerified(httpsPort, "www.example.test", DNS_PEBBLE.issuingTrustStore());
        List<String> names = issued.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
        assertEquals(java.util.Set.of("*.example.test", "example.test"), java.util.Set.copyOf(names));
        try (TestHttpClient.Connection connection = TestHttpClient.https(httpsPort, "example.test", DNS_PEBBLE.issuingTrustStore())) {
            assertEquals(issued, connection.served().get(0));
            assertEquals(200, connection.request("GET", "/", "example.test").status());
        }
        assertEquals(List.of(), DNS.txt("_acme-challenge.example.test"), "the challenge values are removed");
        assertTrue(console().contains("Certificate *.example.test obtained from "), console());
    }

    /** The lib zip carries the Vault store: server.xml names Vault, AppRole logs in, the certificate lives in Vault. */
    @Test
    void keepsCertificatesInVaultWithAppRole() throws Exception {
        OPENBAO.writePolicy("autocert-manage", Files.readString(Path.of("../stores/vault/policies/autocert-manage.hcl")
                .toAbsolutePath().normalize()).replace("secret/data/autocert/", "secret/data/tomcat/")
                .replace("secret/metadata/autocert/", "secret/metadata/tomcat/"));
        OpenBaoServer.AppRole role = OPENBAO.createAppRole("tomcat", List.of("autocert-manage"), Duration.ofMinutes(10),
                Duration.ofHours(1));
        Path secretId = base.resolve("conf/vault-secret-id");
        Files.writeString(secretId, role.secretId() + "\n");
        Files.setPosixFilePermissions(secretId, PosixFilePermissions.fromString("rw-------"));
        installAsTheGuideSays(" storage=\"vault:" + OPENBAO.address() + "/secret/tomcat\" vaultRoleId=\"" + role.roleId()
                + "\" vaultSecretIdFile=\"conf/vault-secret-id\"");
        Files.copy(PEBBLE.trustPem(), base.resolve("conf/pebble-ca.pem"));

        start();
        awaitStarted();
        X509Certificate issued = TestHttpClient.awaitVerified(httpsPort, NAME, PEBBLE.issuingTrustStore());
        String secret = OPENBAO.api("GET", "/v1/secret/data/tomcat/live/" + NAME, null);
        String served = java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(issued.getEncoded());
        assertTrue(secret.replace("\\n", "\n").contains(served.substring(0, 64)), "Vault's live/" + NAME + " holds the served certificate");
        assertFalse(Files.exists(base.resolve("autocert")), "nothing stored in $CATALINA_BASE");
        String console = console();
        assertTrue(console.contains("Certificate " + NAME + " obtained from "), console);
        assertFalse(console.contains(role.secretId()), "the secret ID is never logged");
    }

    @Test
    void refusesToStartWithAnInvalidAttribute() throws Exception {
        installAsTheGuideSays(" keyType=\"ec256\"");
        start();
        assertTrue(tomcat.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "Tomcat should exit");
        assertEquals(1, tomcat.exitValue());
        String console = console();
        assertTrue(console.contains("AutocertListener attribute keyType in server.xml: autocert.key-type: expected one of "
                + "ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 but was 'ec256'"), console);
    }

    /** The steps of docs/tomcat.md, with test ports and Pebble as the CA; {@code extra} adds listener attributes. */
    private void installAsTheGuideSays(String extra) throws IOException {
        installAsTheGuideSays(PEBBLE, NAME, extra);
    }

    /** The same for {@code pebble} and the certificate {@code domains}. */
    private void installAsTheGuideSays(PebbleServer pebble, String domains, String extra) throws IOException {
        // 1. The bundle: unzip -d "$CATALINA_BASE" autocert-tomcat-VERSION-lib.zip
        unzip(bundle, base);
        // 2. Tomcat's JAR scanner skips the bundle's jars (they hold no TLDs or web fragments).
        Path properties = base.resolve("conf/catalina.properties");
        String catalina = Files.readString(properties, StandardCharsets.ISO_8859_1);
        catalina = replaceOnce(catalina, "\nxom-*.jar\n", "\nxom-*.jar,\\\n"
                + "acme4j-*.jar,autocert-*.jar,bcpkix-*.jar,bcprov-*.jar,bcutil-*.jar,dnsjava-*.jar,jose4j-*.jar,slf4j-*.jar\n");
        Files.writeString(properties, catalina, StandardCharsets.ISO_8859_1);
        // 3. server.xml: the Listener, the HTTP connector on the HTTP-01 port, an HTTPS connector without certificate.
        Path serverXml = base.resolve("conf/server.xml");
        String xml = Files.readString(serverXml);
        xml = replaceOnce(xml, "<Server port=\"8005\"", "<Server port=\"" + shutdownPort + "\"");
        xml = replaceOnce(xml, "<Listener className=\"org.apache.catalina.core.ThreadLocalLeakPreventionListener\" />",
                "<Listener className=\"org.apache.catalina.core.ThreadLocalLeakPreventionListener\" />\n"
                + "  <Listener className=\"dev.autocert.tomcat.AutocertListener\"\n"
                + "            domains=\"" + domains + "\" email=\"admin@example.test\" agreeTos=\"true\"\n"
                + "            ca=\"${pebble.directory}\" caTrust=\"conf/pebble-ca.pem\"\n"
                + "            httpPort=\"" + pebble.httpPort() + "\"" + extra + " />");
        int http = xml.indexOf("<Connector port=\"8080\" protocol=\"HTTP/1.1\"");
        int httpEnd = xml.indexOf("/>", http) + 2;
        xml = xml.substring(0, http)
                + "<Connector port=\"" + pebble.httpPort() + "\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\"\n"
                + "               connectionTimeout=\"20000\"\n"
                + "               redirectPort=\"" + httpsPort + "\" />\n"
                + "    <Connector port=\"" + httpsPort + "\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\"\n"
                + "               SSLEnabled=\"true\" maxThreads=\"150\">\n"
                + "        <UpgradeProtocol className=\"org.apache.coyote.http2.Http2Protocol\" />\n"
                + "    </Connector>"
                + xml.substring(httpEnd);
        Files.writeString(serverXml, xml);
        // 4. setenv.sh: a bad configuration stops Tomcat instead of leaving it half started.
        Files.writeString(base.resolve("bin/setenv.sh"), "CATALINA_OPTS=\"$CATALINA_OPTS"
                + " -Dorg.apache.catalina.startup.EXIT_ON_INIT_FAILURE=true"
                + " -Dpebble.directory=" + pebble.directoryUrl() + "\"\n");
    }

    /**
     * Whether the CA's directory offers ARI ({@code renewalInfo}, RFC 9773): the engine asks for
     * renewal information only then, right after an order.
     */
    private static boolean offersAri(PebbleServer pebble) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().sslContext(pebble.trustContext()).proxy(HttpClient.Builder.NO_PROXY).build();
        HttpResponse<String> directory = client.send(HttpRequest.newBuilder(pebble.directoryUrl()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, directory.statusCode(), directory.body());
        return directory.body().contains("\"renewalInfo\"");
    }

    private void start() throws IOException {
        ProcessBuilder builder = new ProcessBuilder("sh", home.resolve("bin/catalina.sh").toString(), "run")
                .redirectErrorStream(true)
                .redirectOutput(base.resolve("logs/console.txt").toFile());
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(key -> key.startsWith("CATALINA_") || key.startsWith("JAVA_") || key.equals("JRE_HOME"));
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        environment.put("CATALINA_HOME", home.toString());
        environment.put("CATALINA_BASE", base.toString());
        tomcat = builder.start();
    }

    private void awaitStarted() throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!console().contains("Server startup in")) {
            if (!tomcat.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("Tomcat did not start:\n" + console());
            }
            Thread.sleep(50);
        }
    }

    private void stop() throws InterruptedException {
        if (tomcat != null && tomcat.isAlive()) {
            tomcat.destroy(); // SIGTERM: Tomcat's shutdown hook stops it, as a service manager would
            if (!tomcat.waitFor(30, TimeUnit.SECONDS)) {
                tomcat.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        tomcat = null;
    }

    private String console() throws IOException {
        Path console = base.resolve("logs/console.txt");
        return Files.exists(console) ? Files.readString(console, StandardCharsets.UTF_8) : "";
    }

    private static String replaceOnce(String text, String what, String with) {
        int at = text.indexOf(what);
        if (at < 0) {
            throw new AssertionError("The stock file no longer contains " + what);
        }
        return text.substring(0, at) + with + text.substring(at + what.length());
    }

    private static void unzip(Path zip, Path directory) throws IOException {
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                Path target = directory.resolve(entry.getName()).normalize();
                if (!target.startsWith(directory)) {
                    throw new IOException("Bad entry " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (process.waitFor() != 0) {
            throw new AssertionError(command + " failed:\n" + output);
        }
    }
}
