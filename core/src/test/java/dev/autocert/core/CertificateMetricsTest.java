package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.testkit.PebbleServer;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's counters and its JMX bean, read through the platform MBean server as JConsole or
 * a JMX exporter would, after a real order from Pebble; and a failure counted by its cause.
 */
class CertificateMetricsTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    @RegisterExtension
    static final ChallengeResponder RESPONDER = ChallengeResponder.forClass(PEBBLE);

    @TempDir
    Path storage;

    @Test
    void aRunningEngineShowsItsCertificatesAndCountersInJmx() throws Exception {
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "jmx.example.test").build();
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("dev.autocert:type=CertificateManager,name=" + ObjectName.quote("jmx.example.test"));
        try (CertificateManager manager = RESPONDER.serve(CertificateManager.builder(settings).build())) {
            manager.start();
            CertifiedKey issued = awaitReal(manager);

            assertTrue(server.isRegistered(name), "registered while running");
            assertEquals(1L, server.getAttribute(name, "Obtained"));
            assertEquals(0L, server.getAttribute(name, "Failed"));
            assertEquals(Boolean.TRUE, server.getAttribute(name, "Healthy"));
            assertTrue((Long) server.getAttribute(name, "ChallengeRequestsAnswered") >= 1, "Pebble's validation requests");
            assertTrue(((String) server.getAttribute(name, "Status")).contains("\"serial\":\"" + issued.serial() + "\""));
            TabularData expiry = (TabularData) server.getAttribute(name, "SecondsUntilExpiry");
            CompositeData row = expiry.get(new Object[] {"jmx.example.test"});
            long seconds = (Long) row.get("value");
            assertEquals(Duration.between(Instant.now(), issued.notAfter()).toSeconds(), seconds, 5.0);
        }
        assertFalse(server.isRegistered(name), "gone once the engine stopped");
    }

    @Test
    void aFailedOrderIsCountedByItsCause() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        AutocertSettings settings = PebbleFixtures.settings(PEBBLE, storage, "down.example.test")
                .ca("https://127.0.0.1:" + closed + "/dir").build();
        try (CertificateManager manager = CertificateManager.builder(settings).build()) {
            RenewalResult result = manager.renewNow("down.example.test", false);
            assertEquals(RenewalResult.Outcome.FAILED, result.outcome());
            assertEquals(1, manager.metrics().failed());
            assertEquals(Map.of("ca-unreachable", 1L), manager.metrics().failuresByCause());
            assertEquals(0, manager.metrics().obtained());
        }
    }

    private static CertifiedKey awaitReal(CertificateManager manager) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (Instant.now().isBefore(deadline)) {
            var key = manager.certificate("jmx.example.test");
            if (key.isPresent() && !key.get().placeholder()) {
                return key.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no certificate within 60 s");
    }
}
