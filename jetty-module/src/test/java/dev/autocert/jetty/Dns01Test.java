package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.ChallengeType;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.BindServer;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * DNS-01 on embedded Jetty: a wildcard and apex certificate issued by Pebble, which validates by
 * querying a real BIND that Autocert updates over RFC 2136 with TSIG, then served by SNI for any
 * name under the wildcard.
 */
class Dns01Test {

    @RegisterExtension
    @Order(1)
    static final BindServer DNS = BindServer.builder().build();

    @RegisterExtension
    @Order(2)
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(DNS.address()).build();

    @TempDir
    Path storage;

    @TempDir
    Path secrets;

    private Server server;

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void wildcardAndApexAreIssuedThroughBindAndServedBySni() throws Exception {
        Path credentials = secrets.resolve("rfc2136.ini");
        Files.writeString(credentials, DNS.rfc2136Credentials());
        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-------"));
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.waitingFor(
                TestServers.pebble(PEBBLE, storage, "*.example.test,example.test").challenges(ChallengeType.DNS_01)
                        .set("dns-provider", "rfc2136").set("dns-credentials", credentials.toString())
                        .set("dns-propagation-check", "resolvers").set("dns-resolvers", "127.0.0.1:" + DNS.port())));
        server.start();

        CertifiedKey issued = TestServers.served(autocert, "*.example.test");
        assertEquals(java.util.Set.of("*.example.test", "example.test"), java.util.Set.copyOf(issued.names()));
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
        for (String name : List.of("example.test", "www.example.test", "any-name.example.test")) {
            try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, TestServers.httpsPort(server), name)) {
                assertEquals(issued.certificate(), connection.served(), name);
            }
        }
        assertEquals(1, PEBBLE.countLogLines("Using custom DNS resolver for ACME challenges: 127.0.0.1:" + DNS.port()),
                "Pebble validated against the test's DNS server");
        assertEquals(2, DNS.log().stream().filter(l -> l.contains("adding an RR at '_acme-challenge.example.test' TXT")).count(),
                "BIND took two TXT values, the wildcard's and the apex's: " + String.join("\n", DNS.log()));
        assertEquals(List.of(), DNS.txt("_acme-challenge.example.test"), "both challenge values removed afterwards");
        assertEquals(1, server.getConnectors().length, "no plain HTTP connector is added for DNS-01");
    }
}
