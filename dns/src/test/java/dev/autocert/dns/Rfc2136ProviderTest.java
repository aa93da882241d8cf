package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.testkit.BindServer;
import dev.autocert.testkit.DnsServer;
import dev.autocert.testkit.KnotServer;
import dev.autocert.testkit.PowerDnsServer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;

/**
 * The {@code rfc2136} provider against the real servers it is for: BIND, Knot and PowerDNS, each
 * taking TSIG-signed updates on loopback. One contract, run against each.
 */
class Rfc2136ProviderTest {

    @RegisterExtension
    static final BindServer BIND = BindServer.builder().build();

    @RegisterExtension
    static final KnotServer KNOT = KnotServer.builder().build();

    @RegisterExtension
    static final PowerDnsServer PDNS = PowerDnsServer.builder().rfc2136().build();

    // Two DNS-01 values, as a wildcard and its apex get them for one name.
    private static final String WILDCARD_VALUE = "MsijOYZxqyjGnFGwhjrhfg-Xgbl5r68WPda0J9EgqqI";
    private static final String APEX_VALUE = "KxAyJ3NwUmg9ZQuMgPMq1nStaYSaP9tYQs5YsEksTqy";

    /** The servers, shared by the class: hence {@code autoCloseArguments = false}, or JUnit would stop each after one test. */
    static Stream<Named<DnsServer>> servers() {
        return Stream.of(Named.of("BIND", BIND), Named.of("Knot", KNOT), Named.of("PowerDNS", PDNS));
    }

    /** The provider as {@code autocert.dns-provider=rfc2136} makes it from a Certbot credentials file's keys. */
    private static DnsProvider provider(DnsServer server, String secret) {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("dns_rfc2136_server", server.address().getAddress().getHostAddress());
        keys.put("dns_rfc2136_port", Integer.toString(server.port()));
        keys.put("dns_rfc2136_name", server.keyName());
        keys.put("dns_rfc2136_secret", secret);
        keys.put("dns_rfc2136_algorithm", "HMAC-SHA256");
        return new Rfc2136Provider.Factory().create(DnsCredentials.of("rfc2136", keys));
    }

    private static TxtRecord record(String label, DnsServer server, String value) {
        return new TxtRecord("_acme-challenge." + label + "." + server.zone() + ".", value, 60);
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("servers")
    void wildcardAndApexValuesCoexistAndEachCleanupRemovesOnlyItsOwn(DnsServer server) throws Exception {
        DnsProvider provider = provider(server, server.secret());
        TxtRecord wildcard = record("coexist", server, WILDCARD_VALUE);
        TxtRecord apex = record("coexist", server, APEX_VALUE);
        String name = wildcard.relativeName();

        provider.present(wildcard);
        provider.present(apex);
        assertEquals(List.of(APEX_VALUE, WILDCARD_VALUE), sorted(server.txt(name)));

        provider.cleanUp(wildcard);
        assertEquals(List.of(APEX_VALUE), server.txt(name), "the apex's value stays");
        provider.cleanUp(apex);
        assertEquals(List.of(), server.txt(name));
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("servers")
    void presentingAndCleaningUpTwiceChangesNothing(DnsServer server) throws Exception {
        DnsProvider provider = provider(server, server.secret());
        TxtRecord record = record("twice", server, WILDCARD_VALUE);

        provider.present(record);
        provider.present(record);
        assertEquals(List.of(WILDCARD_VALUE), server.txt(record.relativeName()));

        provider.cleanUp(record);
        provider.cleanUp(record);
        assertEquals(List.of(), server.txt(record.relativeName()));
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("servers")
    void concurrentPresentsAndCleanupsAtOneNameLoseNothing(DnsServer server) throws Exception {
        DnsProvider provider = provider(server, server.secret());
        List<TxtRecord> records = List.of(record("concurrent", server, WILDCARD_VALUE), record("concurrent", server, APEX_VALUE),
                record("concurrent", server, "third-value-" + server.port()), record("concurrent", server, "fourth-value"));
        String name = records.get(0).relativeName();
        runTogether(records.stream().<Callable<Void>>map(r -> () -> {
            provider.present(r);
            return null;
        }).toList());
        assertEquals(sorted(records.stream().map(TxtRecord::value).toList()), sorted(server.txt(name)));
        runTogether(records.subList(0, 3).stream().<Callable<Void>>map(r -> () -> {
            provider.cleanUp(r);
            return null;
        }).toList());
        assertEquals(List.of("fourth-value"), server.txt(name));
        provider.cleanUp(records.get(3));
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("servers")
    void aWrongSecretFailsWithTheServersAnswerAndNeverTheSecret(DnsServer server) {
        String wrong = Base64.getEncoder().encodeToString("not the secret at all, 32 bytes".getBytes());
        TxtRecord record = record("wrong-secret", server, WILDCARD_VALUE);

        AutocertException e = assertThrows(AutocertException.class, () -> provider(server, wrong).present(record));

        String message = e.getMessage();
        if (server == PDNS) {
            // PowerDNS answers a bad signature REFUSED, unsigned, where RFC 8945 says NOTAUTH.
            assertTrue(message.contains("REFUSED"), message);
        } else {
            assertTrue(message.contains("NOTAUTH") && message.contains("BADSIG"), message);
        }
        assertTrue(message.contains("rfc2136 (127.0.0.1:" + server.port() + ", key acme-key)"), message);
        assertTrue(message.contains(record.name()), message);
        assertTrue(message.contains("secret"), "says what to check: " + message);
        assertFalse(message.contains(wrong), message);
        assertFalse(message.contains(server.secret()), message);
        assertEquals(List.of(), server.txt(record.relativeName()));
    }

    @Test
    void aNameOutsideTheServersZonesFailsNamingIt() {
        // BIND serves example.test only, and answers REFUSED for other.test.
        TxtRecord elsewhere = new TxtRecord("_acme-challenge.www.other.test.", WILDCARD_VALUE, 60);
        AutocertException e = assertThrows(AutocertException.class, () -> provider(BIND, BIND.secret()).present(elsewhere));
        assertFalse(e.getMessage().contains(BIND.secret()), e.getMessage());
        assertTrue(e.getMessage().contains("_acme-challenge.www.other.test."), e.getMessage());
    }

    @Test
    void legoVariablesWorkToo() throws Exception {
        DnsCredentials credentials = DnsCredentials.read("rfc2136", null, true, Map.of(
                "RFC2136_NAMESERVER", "127.0.0.1:" + KNOT.port(),
                "RFC2136_TSIG_KEY", KNOT.keyName() + ".",
                "RFC2136_TSIG_SECRET", KNOT.secret(),
                "RFC2136_TSIG_ALGORITHM", "hmac-sha256."));
        DnsProvider provider = new Rfc2136Provider.Factory().create(credentials);
        TxtRecord record = record("lego", KNOT, APEX_VALUE);
        provider.present(record);
        assertEquals(List.of(APEX_VALUE), KNOT.txt(record.relativeName()));
        provider.cleanUp(record);
        assertEquals(List.of(), KNOT.txt(record.relativeName()));
        assertFalse(provider.toString().contains(KNOT.secret()), provider.toString());
    }

    @Test
    void aMissingServerNamesBothSpellings() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> new Rfc2136Provider.Factory().create(DnsCredentials.of("rfc2136", Map.of("dns_rfc2136_name", "acme-key",
                        "dns_rfc2136_secret", BIND.secret()))));
        assertTrue(e.getMessage().contains("dns_rfc2136_server") && e.getMessage().contains("RFC2136_NAMESERVER"), e.getMessage());
        assertFalse(e.getMessage().contains(BIND.secret()), e.getMessage());
    }

    @Test
    void aSecretThatIsNotBase64IsRefusedWithoutQuotingIt() {
        String secret = "this is not base64 %%% but a password";
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> new Rfc2136Provider.Factory().create(DnsCredentials.of("rfc2136", Map.of(
                        "dns_rfc2136_server", "127.0.0.1", "dns_rfc2136_name", "acme-key", "dns_rfc2136_secret", secret,
                        "dns_rfc2136_algorithm", "HMAC-SHA256"))));
        assertTrue(e.getMessage().contains("base64"), e.getMessage());
        assertFalse(e.getMessage().contains(secret), e.getMessage());
    }

    @Test
    void anUnsignedAnswerToASignedUpdateIsNotTrusted() throws Exception {
        try (ForgingServer forger = new ForgingServer()) {
            Map<String, String> keys = Map.of("dns_rfc2136_server", "127.0.0.1", "dns_rfc2136_port", Integer.toString(forger.port()),
                    "dns_rfc2136_name", "acme-key", "dns_rfc2136_secret", BIND.secret(), "dns_rfc2136_algorithm", "HMAC-SHA256");
            DnsProvider provider = new Rfc2136Provider.Factory().create(DnsCredentials.of("rfc2136", keys));

            AutocertException e = assertThrows(AutocertException.class,
                    () -> provider.present(new TxtRecord("_acme-challenge.example.test.", WILDCARD_VALUE, 60)));

            assertTrue(e.getMessage().contains("was not signed with the TSIG key"), e.getMessage());
            assertFalse(e.getMessage().contains(BIND.secret()), e.getMessage());
        }
    }

    private static List<String> sorted(List<String> values) {
        return values.stream().sorted().toList();
    }

    /** Runs the tasks on their own threads, released at the same moment, and rethrows the first failure. */
    private static void runTogether(List<Callable<Void>> tasks) throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(tasks.size());
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Void>> futures = tasks.stream().map(task -> executor.submit(() -> {
                start.await();
                return task.call();
            })).toList();
            start.countDown();
            for (Future<Void> future : futures) {
                future.get();
            }
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * Answers like a name server of {@code example.test} that does not know TSIG: SOA lookups
     * truthfully, every update NOERROR and unsigned, as a forger on the path would. UDP and TCP.
     */
    private static final class ForgingServer implements AutoCloseable {

        private final DatagramSocket udp;
        private final ServerSocket tcp;
        private final Thread[] threads;

        ForgingServer() throws IOException {
            tcp = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
            udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), tcp.getLocalPort()));
            threads = new Thread[] {new Thread(this::serveUdp, "forger-udp"), new Thread(this::serveTcp, "forger-tcp")};
            for (Thread thread : threads) {
                thread.setDaemon(true);
                thread.start();
            }
        }

        int port() {
            return tcp.getLocalPort();
        }

        private static byte[] answer(byte[] request) throws IOException {
            Message query = new Message(request);
            Message response = new Message(query.getHeader().getID());
            response.getHeader().setFlag(Flags.QR);
            response.getHeader().setFlag(Flags.AA);
            response.getHeader().setOpcode(query.getHeader().getOpcode());
            org.xbill.DNS.Record question = query.getQuestion();
            response.addRecord(question, Section.QUESTION);
            if (query.getHeader().getOpcode() == Opcode.QUERY) {
                Name zone = Name.fromString("example.test.");
                SOARecord soa = new SOARecord(zone, DClass.IN, 60, Name.fromString("ns1.example.test."),
                        Name.fromString("hostmaster.example.test."), 1, 3600, 600, 86400, 60);
                response.addRecord(soa, question.getName().equals(zone) ? Section.ANSWER : Section.AUTHORITY);
            }
            return response.toWire();
        }

        private void serveUdp() {
            byte[] buffer = new byte[4096];
            while (!udp.isClosed()) {
                try {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    udp.receive(packet);
                    byte[] reply = answer(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
                    udp.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
                } catch (IOException e) {
                    // Closed, or a message that does not parse.
                }
            }
        }

        private void serveTcp() {
            while (!tcp.isClosed()) {
                try (Socket socket = tcp.accept()) {
                    DataInputStream in = new DataInputStream(socket.getInputStream());
                    DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                    byte[] request = new byte[in.readUnsignedShort()];
                    in.readFully(request);
                    byte[] reply = answer(request);
                    out.writeShort(reply.length);
                    out.write(reply);
                    out.flush();
                } catch (IOException e) {
                    // Closed, or a client that went away.
                }
            }
        }

        @Override
        public void close() throws IOException {
            udp.close();
            tcp.close();
        }
    }
}
