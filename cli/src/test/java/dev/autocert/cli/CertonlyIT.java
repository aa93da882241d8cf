package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.testkit.PebbleServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert certonly} run as a process against a real Pebble: the standalone responder,
 * {@code --webroot}, manual hooks and dns-01; what it stores is what {@code certificates} lists
 * and what lands in {@code live/}; a dry run stores nothing; failures exit 1 and are recorded.
 */
class CertonlyIT {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @TempDir
    Path work;

    @Test
    void obtainsWithTheStandaloneResponderIntoLiveAndCertificatesListsIt() throws Exception {
        Path storage = work.resolve("storage");

        CommandRunner.Result result = run(storage, "-d", "a.example.test", "-d", "www.a.example.test");

        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("", result.err(), "no progress, no warning off a terminal: " + result);
        Path live = storage.resolve("live/a.example.test");
        assertTrue(result.out().contains("Certificate is saved at: " + live.resolve("fullchain.pem")), result.toString());
        for (String file : List.of("cert.pem", "chain.pem", "fullchain.pem", "privkey.pem")) {
            assertTrue(Files.isRegularFile(live.resolve(file)), file);
        }
        X509Certificate cert = certificates(live.resolve("cert.pem")).get(0);
        assertEquals(List.of("a.example.test", "www.a.example.test"), dnsNames(cert));
        X509Certificate intermediate = certificates(live.resolve("chain.pem")).get(0);
        cert.verify(intermediate.getPublicKey());
        assertEquals(certificates(live.resolve("fullchain.pem")), List.of(cert, intermediate));
        String serial = cert.getSerialNumber().toString(16);

        CommandRunner.Result json = CommandRunner.run("certificates", "--storage", storage.toString(), "--json");
        assertEquals(0, json.exitCode(), json.toString());
        assertTrue(json.out().startsWith("[") && json.out().trim().endsWith("]"), json.toString());
        for (String field : List.of("\"name\": \"a.example.test\"", "\"domains\": [\"a.example.test\", \"www.a.example.test\"]",
                "\"serial\": \"" + serial + "\"", "\"version\": 1", "\"keyType\": \"ec-p256\"", "\"valid\": true",
                "\"lastOutcome\": {\"outcome\": \"obtained\"", "\"fullchain\": \"" + live.resolve("fullchain.pem") + "\"",
                "\"privkey\": \"" + live.resolve("privkey.pem") + "\"", "\"issuer\": \"" + intermediate.getSubjectX500Principal().getName()
                + "\"", "\"ca\": \"" + PEBBLE.directoryUrl() + "\"")) {
            assertTrue(json.out().contains(field), field + " in " + json);
        }

        CommandRunner.Result text = CommandRunner.run("certificates", "--storage", storage.toString());
        assertEquals(0, text.exitCode(), text.toString());
        for (String line : List.of("Certificate Name: a.example.test", "Domains: a.example.test, www.a.example.test", "(VALID: ",
                "Serial Number: " + serial, "Key Type: ec-p256", "Last Renewal: obtained at ",
                "Certificate Path: " + live.resolve("fullchain.pem"), "Private Key Path: " + live.resolve("privkey.pem"))) {
            assertTrue(text.out().contains(line), line + " in " + text);
        }
        assertFalse(text.out().contains("\u001b["), "no colour off a terminal");
    }

    @Test
    void keepsACertificateThatIsNotDueUnlessForced() throws Exception {
        Path storage = work.resolve("storage");
        assertEquals(0, run(storage, "-d", "keep.example.test").exitCode());
        long orders = PEBBLE.countLogLines("POST /order-plz");

        CommandRunner.Result again = run(storage, "-d", "keep.example.test");

        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.out().contains("Certificate not yet due for renewal; no action taken."), again.toString());
        assertEquals(orders, PEBBLE.countLogLines("POST /order-plz"), "nothing ordered");
        assertFalse(Files.exists(storage.resolve("archive/keep.example.test/cert2.pem")));

        CommandRunner.Result forced = run(storage, "--cert-name", "keep.example.test", "--force-renewal");

        assertEquals(0, forced.exitCode(), forced.toString());
        assertTrue(forced.out().contains("Successfully received certificate."), forced.toString());
        assertEquals(orders + 1, PEBBLE.countLogLines("POST /order-plz"));
        assertTrue(Arrays.equals(Files.readAllBytes(storage.resolve("archive/keep.example.test/cert2.pem")),
                Files.readAllBytes(storage.resolve("live/keep.example.test/cert.pem"))), "live/ holds version 2");
    }

    @Test
    void answersThroughAWebrootAndRemovesWhatItWrote() throws Exception {
        Path storage = work.resolve("storage");
        Path webroot = Files.createDirectories(work.resolve("www"));
        try (WebServer web = new WebServer(webroot)) {
            CommandRunner.Result result = run(storage, "--webroot", "-w", webroot.toString(), "-d", "web.example.test");

            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(web.served.get() > 0, "Pebble fetched the challenge from the web server");
        }
        assertTrue(Files.isRegularFile(storage.resolve("live/web.example.test/fullchain.pem")));
        try (var left = Files.list(webroot)) {
            assertEquals(List.of(), left.toList(), "the .well-known directories it created are gone");
        }
    }

    @Test
    void answersThroughManualHooks() throws Exception {
        Path storage = work.resolve("storage");
        Path webroot = Files.createDirectories(work.resolve("www/.well-known/acme-challenge"));
        Path calls = work.resolve("calls.log");
        Path auth = script("auth.sh", "echo \"auth $CERTBOT_DOMAIN\" >> '" + calls + "'\n"
                + "printf %s \"$CERTBOT_VALIDATION\" > '" + webroot + "'/\"$CERTBOT_TOKEN\"\n");
        Path cleanup = script("cleanup.sh", "echo \"cleanup $CERTBOT_DOMAIN\" >> '" + calls + "'\n"
                + "rm -f '" + webroot + "'/\"$CERTBOT_TOKEN\"\n");
        try (WebServer web = new WebServer(work.resolve("www"))) {
            CommandRunner.Result result = run(storage, "--manual-auth-hook", auth.toString(), "--manual-cleanup-hook", cleanup.toString(),
                    "-d", "manual.example.test");

            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(web.served.get() > 0);
        }
        assertEquals(List.of("auth manual.example.test", "cleanup manual.example.test"), Files.readAllLines(calls));
        try (var left = Files.list(webroot)) {
            assertEquals(List.of(), left.toList());
        }
        assertTrue(Files.isRegularFile(storage.resolve("live/manual.example.test/fullchain.pem")));
    }

    @Test
    void obtainsAWildcardThroughDns01AndADnsProvider() throws Exception {
        Path storage = work.resolve("storage");
        // The "DNS API" the exec provider's script calls: it sets the TXT record Pebble's resolver answers.
        HttpServer api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        api.createContext("/", exchange -> {
            String[] parts = exchange.getRequestURI().getPath().split("/");
            String action = parts[1];
            String fqdn = URLDecoder.decode(parts[2], StandardCharsets.UTF_8);
            calls.add(action + " " + fqdn);
            if (action.equals("present")) {
                PEBBLE.setTxt(fqdn, URLDecoder.decode(parts[3], StandardCharsets.UTF_8));
            } else {
                PEBBLE.clearTxt(fqdn);
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        api.start();
        try {
            Path hook = script("dns.sh", "curl -sf -X POST \"http://127.0.0.1:" + api.getAddress().getPort() + "/$1/$2/$3\"\n");
            Path credentials = work.resolve("exec.ini");
            Files.writeString(credentials, "EXEC_PATH = " + hook + "\n");
            Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-------"));

            CommandRunner.Result result = run(storage, "--challenges", "dns-01", "--dns-provider", "exec", "--dns-credentials",
                    credentials.toString(), "--dns-propagation-check", "resolvers", "--dns-resolvers",
                    "127.0.0.1:" + PEBBLE.dnsAddress().getPort(), "--dns-polling-interval", "PT0.2S", "-d", "*.wild.example.test");

            assertEquals(0, result.exitCode(), result.toString());
        } finally {
            api.stop(0);
        }
        assertEquals(List.of("present _acme-challenge.wild.example.test.", "cleanup _acme-challenge.wild.example.test."), calls);
        X509Certificate cert = certificates(storage.resolve("live/_.wild.example.test/cert.pem")).get(0);
        assertEquals(List.of("*.wild.example.test"), dnsNames(cert));
    }

    @Test
    void dryRunStoresNothingAndRunsPreAndPostHooksButNoDeployHook() throws Exception {
        Path storage = work.resolve("storage");
        assertEquals(0, run(storage, "-d", "dry.example.test").exitCode());
        var before = StorageFingerprint.of(storage);
        Path marks = Files.createDirectories(work.resolve("marks"));

        CommandRunner.Result renewal = run(storage, "--dry-run", "-d", "dry.example.test", "--pre-hook", "touch " + marks.resolve("pre"),
                "--post-hook", "touch " + marks.resolve("post"), "--deploy-hook", "touch " + marks.resolve("deploy"));
        CommandRunner.Result fresh = run(storage, "--dry-run", "-d", "new.example.test");

        assertEquals(0, renewal.exitCode(), renewal.toString());
        assertTrue(renewal.out().contains("Simulating a certificate request for dry.example.test"), renewal.toString());
        assertTrue(renewal.out().contains("The dry run was successful."), renewal.toString());
        assertEquals(0, fresh.exitCode(), fresh.toString());
        assertTrue(fresh.out().contains("The dry run was successful."), fresh.toString());
        assertEquals(before, StorageFingerprint.of(storage), "storage byte for byte as it was");
        assertTrue(Files.exists(marks.resolve("pre")) && Files.exists(marks.resolve("post")), "pre and post hooks ran");
        assertFalse(Files.exists(marks.resolve("deploy")), "no deploy hook in a dry run");
    }

    @Test
    void aFailedOrderExitsOneAndIsRecordedForCertificates() throws Exception {
        Path storage = work.resolve("storage");
        int elsewhere;
        try (ServerSocket free = new ServerSocket(0)) {
            elsewhere = free.getLocalPort();
        }

        // The responder listens where Pebble does not connect: validation fails.
        CommandRunner.Result result = run(storage, "--http-port", Integer.toString(elsewhere), "-d", "fail.example.test");

        assertEquals(1, result.exitCode(), result.toString());
        assertEquals("", result.out(), result.toString());
        assertTrue(result.err().startsWith("autocert: ") && result.err().contains("fail.example.test")
                && result.err().contains("http-01"), result.toString());
        assertFalse(result.err().contains("Exception") || result.err().contains("[WARN]"), result.toString());
        assertFalse(Files.exists(storage.resolve("live/fail.example.test")));

        CommandRunner.Result listed = CommandRunner.run("certificates", "--storage", storage.toString(), "--json");
        assertTrue(listed.out().contains("\"name\": \"fail.example.test\""), listed.toString());
        assertTrue(listed.out().contains("\"problem\": \"no certificate has been issued yet\""), listed.toString());
        assertTrue(listed.out().contains("\"lastOutcome\": {\"outcome\": \"failed\""), listed.toString());
        assertTrue(listed.out().contains("\"attempt\": 1, \"error\": \"The CA could not validate http-01 for fail.example.test"),
                listed.toString());
        CommandRunner.Result text = CommandRunner.run("certificates", "--storage", storage.toString(), "--cert-name", "fail.example.test");
        assertTrue(text.out().contains("Last Renewal: FAILED at "), text.toString());
    }

    @Test
    void quietPrintsNothingOnSuccess() throws Exception {
        CommandRunner.Result result = run(work.resolve("storage"), "--quiet", "-d", "quiet.example.test");

        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("", result.out());
        assertEquals("", result.err());
        assertTrue(Files.isRegularFile(work.resolve("storage/live/quiet.example.test/fullchain.pem")));
    }

    @Test
    void showsProgressOnATerminal() throws Exception {
        List<String> command = new ArrayList<>();
        command.add(CommandRunner.home().resolve("bin/autocert").toString());
        command.addAll(args(work.resolve("storage"), "-d", "tty.example.test"));
        // script(1) gives the command a pseudo-terminal, as an operator's shell has
        ProcessBuilder builder = new ProcessBuilder("script", "-qec", String.join(" ", command.stream().map(a -> "'" + a + "'").toList()),
                "/dev/null");
        builder.environment().put("TERM", "xterm");
        builder.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        builder.redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS));

        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("Answering http-01 challenges on port " + PEBBLE.httpPort()), output);
        assertTrue(output.contains("Ordering a certificate for tty.example.test from " + PEBBLE.directoryUrl()), output);
        assertTrue(output.contains("The CA fetched the http-01 challenge for tty.example.test"), output);
        assertTrue(output.contains("Successfully received certificate."), output);
    }

    @Test
    void usageErrorsExitTwoNamingTheOption() throws Exception {
        Path storage = work.resolve("storage");

        CommandRunner.Result noNames = run(storage);
        assertEquals(2, noNames.exitCode(), noNames.toString());
        assertTrue(noNames.err().contains("autocert.domains: required"), noNames.toString());

        CommandRunner.Result foreignName = run(storage, "-d", "x.example.test", "--cert-name", "y.example.test");
        assertEquals(2, foreignName.exitCode(), foreignName.toString());
        assertTrue(foreignName.err().contains("--cert-name: 'y.example.test' is not one of the names to order"), foreignName.toString());

        CommandRunner.Result noWebroot = run(storage, "--webroot", work.resolve("missing").toString(), "-d", "x.example.test");
        assertEquals(2, noWebroot.exitCode(), noWebroot.toString());
        assertTrue(noWebroot.err().contains("--webroot: '" + work.resolve("missing") + "' is not a directory"), noWebroot.toString());
        assertFalse(Files.exists(storage), "nothing written");
    }

    /** {@code autocert certonly} on Pebble with {@code storage} and {@code extra}. */
    private static CommandRunner.Result run(Path storage, String... extra) throws Exception {
        return CommandRunner.run(args(storage, extra).toArray(String[]::new));
    }

    private static List<String> args(Path storage, String... extra) {
        List<String> args = new ArrayList<>(List.of("certonly", "--storage", storage.toString()));
        for (Map.Entry<String, String> setting : PEBBLE.autocertProperties().entrySet()) {
            String name = setting.getKey().substring("autocert.".length());
            if (!Arrays.asList(extra).contains("--" + name)) {
                args.add("--" + name);
                args.add(setting.getValue());
            }
        }
        args.addAll(List.of(extra));
        return args;
    }

    private Path script(String name, String body) throws IOException {
        Path file = work.resolve(name);
        Files.writeString(file, "#!/bin/sh\nset -e\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
        return file;
    }

    static List<X509Certificate> certificates(Path pem) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        return factory.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(pem))).stream()
                .map(X509Certificate.class::cast).toList();
    }

    static List<String> dnsNames(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().filter(n -> (Integer) n.get(0) == 2)
                .map(n -> (String) n.get(1)).sorted().toList();
    }

    /** A web server serving a directory on Pebble's HTTP-01 port, as nginx would serve a webroot. */
    static final class WebServer implements AutoCloseable {
        final AtomicInteger served = new AtomicInteger();
        private final HttpServer server;

        WebServer(Path root) throws IOException {
            this(root, PEBBLE.httpPort());
        }

        WebServer(Path root, int port) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
            server.createContext("/", exchange -> {
                Path file = root.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
                if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                    exchange.sendResponseHeaders(404, -1);
                    exchange.close();
                    return;
                }
                byte[] body = Files.readAllBytes(file);
                served.incrementAndGet();
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.start();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
