package dev.autocert.dns;

import static dev.autocert.dns.Dns01Fixtures.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.ChallengeData;
import dev.autocert.core.ChallengeType;
import dev.autocert.core.DnsProvider;
import dev.autocert.testkit.BindServer;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The DNS-01 solver in the engine, against Pebble and BIND: the default authoritative check, a
 * record published late, and one that never becomes visible.
 */
class Dns01SolverTest {

    @RegisterExtension
    static final BindServer BIND = BindServer.builder().build();

    /**
     * Serves the same zone but never hears of updates: a resolver that does not see the record,
     * as behind a hidden primary or a split horizon.
     */
    @RegisterExtension
    static final BindServer STALE = BindServer.builder().build();

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(BIND.address()).build();

    @TempDir
    Path storage;

    @TempDir
    Path secrets;

    private AutocertSettings.Builder settings(String domains, String resolver) throws Exception {
        Path credentials = Dns01Fixtures.writeCredentials(secrets.resolve("rfc2136.ini"), BIND.rfc2136Credentials());
        return Dns01Fixtures.rfc2136Settings(PEBBLE, storage, domains, credentials, resolver);
    }

    @Test
    void theDefaultCheckAsksTheZonesAuthoritativeServersFoundThroughSoaAndNs() throws Exception {
        String name = "authoritative.example.test";
        AutocertSettings settings = settings(name, "127.0.0.1:" + BIND.port()).set("dns-propagation-check", "authoritative").build();
        // BIND's NS record names ns1.example.test, 127.0.0.1; the check asks it on BIND's port, not 53.
        var solver = DnsSolverFactory.create(settings, null, Map.of(), BIND.port());
        Dns01Fixtures.Events events = new Dns01Fixtures.Events();

        try (CertificateManager manager = CertificateManager.builder(settings).solver(solver).listener(events).build()) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();
            assertEquals(List.of(name), Dns01Fixtures.dnsNames(issued.certificate()));
        }
        assertEquals(List.of(), BIND.txt("_acme-challenge." + name));
    }

    @Test
    void aRecordPublishedOnlyAfterADelayIsWaitedForAndValidates() throws Exception {
        String name = "late.example.test";
        Duration delay = Duration.ofSeconds(3);
        AutocertSettings settings = settings(name, "127.0.0.1:" + BIND.port()).set("dns-provider", "").set("dns-credentials", "")
                .build();
        DnsProvider bind = new Rfc2136Provider.Factory().create(DnsCredentials.read("rfc2136",
                secrets.resolve("rfc2136.ini"), true, Map.of()));
        Dns01Fixtures.Events events = new Dns01Fixtures.Events();

        try (SlowProvider slow = new SlowProvider(bind, delay);
                CertificateManager manager = CertificateManager.builder(settings).dnsProvider(slow).listener(events).build()) {
            long start = System.nanoTime();
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, name, TIMEOUT).certificate();

            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(delay) >= 0, "validated only once the record existed: " + took);
            assertEquals(List.of(name), Dns01Fixtures.dnsNames(issued.certificate()));
            assertEquals(List.of(), events.all().stream().filter(e -> e.type() == CertificateEvent.Type.FAILED).toList());
        }
        assertEquals(List.of(), BIND.txt("_acme-challenge." + name), "cleaned up");
    }

    @Test
    void aRecordThatNeverBecomesVisibleFailsTheOrderAfterTheTimeoutAndIsRemoved() throws Exception {
        String name = "never.example.test";
        String txtName = "_acme-challenge." + name;
        AutocertSettings settings = settings(name, "127.0.0.1:" + STALE.port()).set("dns-propagation-timeout", "3s").build();
        Dns01Fixtures.Events events = new Dns01Fixtures.Events();
        Set<String> seenAtPrimary = new HashSet<>();

        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            long start = System.nanoTime();
            manager.start();
            CertificateEvent failed = null;
            while (failed == null) {
                seenAtPrimary.addAll(BIND.txt(txtName));
                failed = events.all().stream().filter(e -> e.type() == CertificateEvent.Type.FAILED).findFirst().orElse(null);
                if (System.nanoTime() - start > TIMEOUT.toNanos()) {
                    throw new AssertionError("no failure within " + TIMEOUT + ": " + events.all());
                }
                Thread.sleep(50);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            AutocertException cause = failed.cause().orElseThrow();
            assertTrue(cause.getMessage().contains(txtName + ". did not become visible at the resolvers [127.0.0.1:"
                    + STALE.port() + "] within 3 s"), cause.getMessage());
            assertTrue(cause.getMessage().contains("autocert.dns-propagation-timeout"), cause.getMessage());
            assertTrue(took.compareTo(Duration.ofMillis(2500)) >= 0, "waited the timeout: " + took);
            assertTrue(failed.certificate().placeholder(), "the placeholder keeps serving");
        }
        assertEquals(1, seenAtPrimary.size(), "the value was published at the primary: " + seenAtPrimary);
        assertEquals(List.of(), BIND.txt(txtName), "and removed after the failure");
        assertEquals(List.of(), STALE.txt(txtName));
    }

    @Test
    void withoutAPropagationCheckTheChallengesOfAnOrderShareOneWait() throws Exception {
        AutocertSettings settings = settings("*.shared.example.test,shared.example.test", "127.0.0.1:" + BIND.port())
                .set("dns-propagation-check", "none").set("dns-propagation-timeout", "3s").build();
        DnsProvider accepting = new DnsProvider() {
            @Override
            public void present(TxtRecord record) {
            }

            @Override
            public void cleanUp(TxtRecord record) {
            }
        };
        var solver = DnsSolverFactory.create(settings, accepting, Map.of(), BIND.port());
        List<ChallengeData> challenges = List.of(new ChallengeData(ChallengeType.DNS_01, "*.shared.example.test", "token-1", "token-1.key"),
                new ChallengeData(ChallengeType.DNS_01, "shared.example.test", "token-2", "token-2.key"));

        long start = System.nanoTime();
        for (ChallengeData challenge : challenges) {
            solver.present(challenge);
        }
        for (ChallengeData challenge : challenges) { // as the order flow does: all presented, then each awaited
            solver.awaitVisible(challenge);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertTrue(took.compareTo(Duration.ofMillis(2900)) >= 0, "waited the timeout: " + took);
        assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "waited once per challenge: " + took);
    }

    /**
     * A provider whose API accepts a record at once and publishes it only later, as hosted DNS
     * APIs with a change queue do.
     */
    private static final class SlowProvider implements DnsProvider, AutoCloseable {

        private final DnsProvider delegate;
        private final Duration delay;
        private final ScheduledExecutorService publisher = Executors.newSingleThreadScheduledExecutor();
        private final Map<TxtRecord, ScheduledFuture<?>> pending = new java.util.concurrent.ConcurrentHashMap<>();

        SlowProvider(DnsProvider delegate, Duration delay) {
            this.delegate = delegate;
            this.delay = delay;
        }

        @Override
        public void present(TxtRecord record) {
            pending.put(record, publisher.schedule(() -> {
                delegate.present(record);
                return null;
            }, delay.toMillis(), TimeUnit.MILLISECONDS));
        }

        @Override
        public void cleanUp(TxtRecord record) throws AutocertException {
            ScheduledFuture<?> publishing = pending.remove(record);
            if (publishing != null) {
                try {
                    publishing.get(delay.toMillis() * 2, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (ExecutionException | TimeoutException e) {
                    // Nothing was published; removing it anyway is harmless.
                }
            }
            delegate.cleanUp(record);
        }

        @Override
        public void close() {
            publisher.shutdownNow();
        }
    }
}
