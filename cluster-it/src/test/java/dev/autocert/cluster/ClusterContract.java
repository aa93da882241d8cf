package dev.autocert.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.RenewalResult;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A cluster as users run one: three server processes (embedded Jetty, embedded Tomcat, Spring
 * Boot) sharing one store, behind a round-robin balancer that also carries Pebble's HTTP-01
 * validation requests, so each request may reach any node. Subclasses supply the store.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class ClusterContract {

    static final String NAME = "cluster.example.test";
    static final String FAILOVER = "failover.example.test";

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    static RoundRobinProxy http;
    static RoundRobinProxy https;
    static final List<ServerNode> NODES = new ArrayList<>();
    static Path work;
    static SSLContext trust;

    /** The {@code autocert.storage*} / {@code autocert.vault-*} settings of the shared store. */
    abstract Map<String, String> storeSettings();

    @BeforeAll
    static void balancers() throws Exception {
        work = Files.createDirectories(Path.of(System.getProperty("autocert.it.workDirectory", "target/it"))
                .resolve("cluster-" + System.nanoTime()));
        http = new RoundRobinProxy(PEBBLE.httpPort()).perRequest(); // where Pebble validates HTTP-01
        https = new RoundRobinProxy(0);
        trust = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
    }

    @AfterAll
    static void stopAll() throws Exception {
        stopNodes();
        http.close();
        https.close();
    }

    private static void stopNodes() throws InterruptedException {
        for (ServerNode node : NODES) {
            node.close();
        }
        NODES.clear();
    }

    private void startNodes(String domains) throws IOException {
        Map<String, String> settings = new LinkedHashMap<>(PEBBLE.autocertProperties());
        settings.remove("autocert.http-port"); // each node's own, behind the balancer
        settings.put("autocert.domains", domains);
        settings.put("autocert.email", "ops@example.test");
        settings.putAll(storeSettings());
        for (ServerNode.Kind kind : ServerNode.Kind.values()) {
            NODES.add(ServerNode.start(kind, settings, work));
        }
        http.backends(NODES.stream().map(ServerNode::httpPort).toList());
        https.backends(NODES.stream().map(ServerNode::httpsPort).toList());
    }

    @Test
    @Order(1)
    void theClusterOrdersOnceAndEveryNodeServesTheCertificate() throws Exception {
        long ordersBefore = PEBBLE.countLogLines("POST /order-plz");
        startNodes(NAME);
        String serial = null;
        for (ServerNode node : NODES) {
            String served = awaitReal(node, NAME, Duration.ofSeconds(120));
            if (serial == null) {
                serial = served;
            }
            assertEquals(serial, served, node + " serves the cluster's one certificate");
        }
        assertEquals(1, PEBBLE.countLogLines("POST /order-plz") - ordersBefore, "one order for three nodes");
        long nodesAsked = NODES.stream().filter(n -> http.connections(n.httpPort()) > 0).count();
        assertTrue(nodesAsked >= 2, "Pebble's validation requests reached " + nodesAsked + " node(s)");
        for (int i = 0; i < NODES.size(); i++) { // and through the balancer, whichever node answers
            try (HttpsProbe.Connection connection = HttpsProbe.connect(trust, https.port(), NAME)) {
                assertEquals(serial, connection.served().getSerialNumber().toString(16));
                assertEquals(200, connection.get("/").status());
            }
        }
    }

    @Test
    @Order(2)
    void aCertificateStoredElsewhereIsServedByEveryNodeWithinFiveSeconds() throws Exception {
        String before = awaitReal(NODES.get(0), NAME, Duration.ofSeconds(60));
        // Another process on the store (a node outside the balancer, or the operator's command)
        // renews: the CA's requests for its challenge reach the cluster, which finds the token in storage.
        Map<String, String> settings = new LinkedHashMap<>(PEBBLE.autocertProperties());
        settings.put("autocert.domains", NAME);
        settings.put("autocert.email", "ops@example.test");
        settings.putAll(storeSettings());
        String renewed;
        try (CertificateManager other = CertificateManager.builder(AutocertSettings.fromProperties(settings)).build()) {
            other.load();
            RenewalResult result = other.renewNow(NAME, true);
            assertEquals(RenewalResult.Outcome.RENEWED, result.outcome(), result.failure().map(Throwable::toString).orElse(""));
            renewed = result.certificate().serial();
        }
        assertNotEquals(before, renewed);
        // Every node, polled in turn, must serve it within 5 s of the store.
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        List<ServerNode> waiting = new ArrayList<>(NODES);
        String expected = new java.math.BigInteger(renewed, 16).toString(16);
        while (!waiting.isEmpty() && System.nanoTime() < deadline) {
            for (java.util.Iterator<ServerNode> it = waiting.iterator(); it.hasNext(); ) {
                ServerNode node = it.next();
                try (HttpsProbe.Connection connection = HttpsProbe.connect(trust, node.httpsPort(), NAME)) {
                    if (connection.served().getSerialNumber().toString(16).equals(expected)) {
                        it.remove();
                    }
                } catch (IOException e) {
                    // not yet
                }
            }
            Thread.sleep(50);
        }
        assertEquals(List.of(), waiting, "nodes still serving the previous certificate 5 s after the new one was stored");
    }

    @Test
    @Order(3)
    void whenTheOrderingNodeIsKilledMidOrderAnotherFinishes() throws Exception {
        stopNodes();
        http.delay(3_000); // validation requests are slow: the order stays open for a while
        long ordersBefore = PEBBLE.countLogLines("POST /order-plz");
        int validationsBefore = http.accepted();
        startNodes(NAME + ";" + FAILOVER);
        ServerNode ordering = awaitOrderingNode(FAILOVER, Duration.ofSeconds(90));
        // Mid-order: the order is placed and the CA has begun validating its challenge.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (http.accepted() == validationsBefore && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(http.accepted() > validationsBefore, "Pebble never began validating " + FAILOVER + "; logs:\n" + logs());
        ordering.kill();
        http.delay(0);
        List<ServerNode> survivors = NODES.stream().filter(n -> n != ordering).toList();
        String serial = null;
        for (ServerNode node : survivors) {
            String served = awaitReal(node, FAILOVER, Duration.ofSeconds(180));
            serial = serial == null ? served : serial;
            assertEquals(serial, served, node + " serves what the node that took over obtained");
        }
        long orders = PEBBLE.countLogLines("POST /order-plz") - ordersBefore;
        assertTrue(orders >= 2, "the killed node's order and the one that finished: " + orders);
        long obtained = survivors.stream().filter(n -> n.output().contains("Certificate " + FAILOVER + " obtained")).count();
        assertEquals(1, obtained, "one survivor obtained it after the lock was free; logs:\n" + logs());
        // and no survivor ordered without cause: every order but the one that succeeded failed and was logged
        int ordered = 0;
        int failed = 0;
        for (ServerNode node : survivors) {
            ordered += occurrences(node.output(), "Ordering a certificate for " + FAILOVER);
            failed += occurrences(node.output(), "Obtaining " + FAILOVER + " failed");
        }
        assertEquals(1 + failed, ordered, "orders by the survivors: one that succeeded, the rest failed; logs:\n" + logs());
    }

    private static ServerNode awaitOrderingNode(String name, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ServerNode node : NODES) {
                if (node.output().contains("Ordering a certificate for " + name)) {
                    return node;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("No node began ordering " + name + " within " + timeout + "; logs:\n" + logs());
    }

    /** Waits until {@code node} serves a certificate for {@code name} that chains to Pebble; returns its serial in hex. */
    static String awaitReal(ServerNode node, String name, Duration timeout) throws InterruptedException, GeneralSecurityException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "nothing tried";
        while (System.nanoTime() < deadline) {
            if (!node.isAlive()) {
                throw new AssertionError(node + " exited:\n" + node.output());
            }
            try (HttpsProbe.Connection connection = HttpsProbe.connect(trust, node.httpsPort(), name)) {
                return connection.served().getSerialNumber().toString(16);
            } catch (IOException e) {
                last = e.toString(); // not listening yet, or the placeholder (which no root verifies)
            }
            Thread.sleep(200);
        }
        throw new AssertionError(node + " served no real certificate for " + name + " within " + timeout + " (last: " + last
                + "); logs:\n" + logs());
    }

    private static int occurrences(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + part.length())) {
            count++;
        }
        return count;
    }

    static String logs() {
        StringBuilder out = new StringBuilder();
        for (ServerNode node : NODES) {
            String output = node.output();
            out.append("---- ").append(node).append('\n').append(output, Math.max(0, output.length() - 6000), output.length());
        }
        return out.toString();
    }
}
