package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.ChallengeType;
import dev.autocert.testkit.BindServer;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.KnotServer;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * DNS-01 on embedded Tomcat: a wildcard and apex certificate issued by Pebble, which validates by
 * querying a real Knot DNS that Autocert updates over RFC 2136 with TSIG, then served by SNI for
 * any name under the wildcard. Tomcat gets no plain HTTP connector: DNS-01 needs none.
 */
class Dns01Test {

    @RegisterExtension
    @Order(1)
    static final KnotServer DNS = KnotServer.builder().build();

    @RegisterExtension
    @Order(2)
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(DNS.address()).build();

    @TempDir
    Path dir;

    private Tomcat tomcat;

    @AfterEach
    void stopTomcat() throws Exception {
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    @Test
    void wildcardAndApexAreIssuedThroughKnotAndServedBySni() throws Exception {
        Path credentials = dir.resolve("rfc2136.ini");
        Files.writeString(credentials, DNS.rfc2136Credentials());
        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-------"));
        int port = TestTomcat.freePort();
        tomcat = new Tomcat();
        tomcat.setBaseDir(dir.resolve("tomcat").toString());
        Connector https = new Connector();
        https.setPort(port);
        https.setProperty("address", "127.0.0.1");
        https.setProperty("SSLEnabled", "true");
        tomcat.getService().addConnector(https);
        tomcat.setConnector(https);
        Context root = tomcat.addContext("", null);
        ((StandardContext) root).setClearReferencesThreadLocals(false);
        ((StandardContext) root).setClearReferencesRmiTargets(false);
        Tomcat.addServlet(root, "hello", new TestTomcat.Hello());
        root.addServletMappingDecoded("/", "hello");

        CertificateManager manager = AutocertTomcat.install(tomcat, TestTomcat.settings(PEBBLE, dir.resolve("storage"),
                "*.example.test,example.test").challenges(ChallengeType.DNS_01).set("dns-provider", "rfc2136")
                .set("dns-credentials", credentials.toString()).set("dns-propagation-check", "resolvers")
                .set("dns-resolvers", "127.0.0.1:" + DNS.port()).set("startup-wait", "60s").build());
        tomcat.start(); // returns once the certificate is issued and served

        assertEquals(1, tomcat.getService().findConnectors().length, "no plain HTTP connector is added for DNS-01");
        CertifiedKey issued = manager.certificate("*.example.test").orElseThrow();
        assertEquals(java.util.Set.of("*.example.test", "example.test"), java.util.Set.copyOf(issued.names()));
        SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
        for (String name : List.of("example.test", "www.example.test", "shop.example.test")) {
            try (HttpsProbe.Connection connection = HttpsProbe.connect(pebbleRoots, port, name)) {
                assertEquals(issued.certificate(), connection.served(), name);
                assertEquals("hello " + name + " /", connection.get("/").body().strip());
            }
        }
        assertEquals(1, PEBBLE.countLogLines("Using custom DNS resolver for ACME challenges: 127.0.0.1:" + DNS.port()),
                "Pebble validated against the test's DNS server");
        assertEquals(List.of(), DNS.txt("_acme-challenge.example.test"), "both challenge values removed afterwards");
    }
}
