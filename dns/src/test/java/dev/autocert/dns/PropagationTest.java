package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsSettings.PropagationCheck;
import dev.autocert.testkit.BindServer;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Finding where a TXT record goes and when it is visible, against a real BIND serving {@code
 * example.test}, {@code acme.test} (the target of delegations) and {@code v6.test} (name servers
 * with addresses that do not answer). BIND is not on port 53, so its port is the name server port
 * the authoritative check asks on.
 */
class PropagationTest {

    @RegisterExtension
    static final BindServer BIND = BindServer.builder().zones("example.test", "acme.test", "v6.test").build();

    /** An address that never answers: RFC 6666's discard-only prefix. */
    private static final String UNREACHABLE_V6 = "100::1";

    private static final Duration INTERVAL = Duration.ofMillis(250);

    private static Propagation propagation(PropagationCheck check) {
        return new Propagation(List.of("127.0.0.1:" + BIND.port()), check, BIND.port());
    }

    @Test
    void findsTheZoneThroughSoa() throws Exception {
        Propagation propagation = propagation(PropagationCheck.AUTHORITATIVE);
        assertEquals("example.test.", propagation.zone("_acme-challenge.www.example.test"));
        assertEquals("example.test.", propagation.zone("_acme-challenge.example.test."));
        assertEquals("example.test.", propagation.zone("example.test"));
        assertEquals("acme.test.", propagation.zone("deep.below.acme.test"));
    }

    @Test
    void aNameInNoZoneFailsSayingWhatToCheck() {
        AutocertException e = assertThrows(AutocertException.class,
                () -> propagation(PropagationCheck.AUTHORITATIVE).zone("www.nowhere.invalid"));
        assertTrue(e.getMessage().contains("no zone found for www.nowhere.invalid. at [127.0.0.1:" + BIND.port() + "]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("REFUSED"), "says what the server answered: " + e.getMessage());
        assertTrue(e.getMessage().contains("autocert.dns-resolvers"), e.getMessage());
    }

    @Test
    void followsACnameOnAcmeChallenge() throws Exception {
        BIND.addRecord("_acme-challenge.delegated.example.test", "CNAME", "d1.acme.test.");
        assertEquals("d1.acme.test.", propagation(PropagationCheck.AUTHORITATIVE).target("_acme-challenge.delegated.example.test."));
    }

    @Test
    void followsACnameChainToItsEnd() throws Exception {
        BIND.addRecord("_acme-challenge.chain.example.test", "CNAME", "c1.acme.test.");
        BIND.addRecord("c1.acme.test", "CNAME", "c2.acme.test.");
        assertEquals("c2.acme.test.", propagation(PropagationCheck.RESOLVERS).target("_acme-challenge.chain.example.test"));
    }

    @Test
    void aNameWithoutCnameIsItsOwnTarget() throws Exception {
        assertEquals("_acme-challenge.plain.example.test.",
                propagation(PropagationCheck.AUTHORITATIVE).target("_acme-challenge.Plain.example.test."));
    }

    @Test
    void aCnameLoopFails() {
        BIND.addRecord("_acme-challenge.loop.example.test", "CNAME", "loop1.acme.test.");
        BIND.addRecord("loop1.acme.test", "CNAME", "_acme-challenge.loop.example.test.");
        AutocertException e = assertThrows(AutocertException.class,
                () -> propagation(PropagationCheck.AUTHORITATIVE).target("_acme-challenge.loop.example.test"));
        assertTrue(e.getMessage().contains("CNAME chain longer than"), e.getMessage());
    }

    @Test
    void seesAValueAtEveryAuthoritativeServerFoundThroughNs() throws Exception {
        String name = "_acme-challenge.visible.example.test.";
        Propagation propagation = propagation(PropagationCheck.AUTHORITATIVE);
        assertFalse(propagation.visible(name, "the-value"));
        BIND.addRecord(name, "TXT", "other-value");
        assertFalse(propagation.visible(name, "the-value"), "another value is not this one");
        BIND.addRecord(name, "TXT", "the-value");
        assertTrue(propagation.visible(name, "the-value"));
        assertTrue(propagation(PropagationCheck.RESOLVERS).visible(name, "the-value"));
    }

    @Test
    void checksTheDelegatedZonesServers() throws Exception {
        BIND.addRecord("_acme-challenge.acmedns.example.test", "CNAME", "abc123.acme.test.");
        Propagation propagation = propagation(PropagationCheck.AUTHORITATIVE);
        String target = propagation.target("_acme-challenge.acmedns.example.test");
        assertEquals("abc123.acme.test.", target);
        assertFalse(propagation.visible(target, "delegated-value"));
        BIND.addRecord(target, "TXT", "delegated-value");
        assertTrue(propagation.visible(target, "delegated-value"));
    }

    @Test
    void waitsForARecordThatAppearsOnlyAfterADelay() throws Exception {
        String name = "_acme-challenge.late.example.test.";
        ScheduledExecutorService other = Executors.newSingleThreadScheduledExecutor();
        try {
            long start = System.nanoTime();
            other.schedule(() -> BIND.addRecord(name, "TXT", "late-value"), 3, TimeUnit.SECONDS);

            propagation(PropagationCheck.AUTHORITATIVE).await(name, "late-value", Duration.ofSeconds(20), INTERVAL);

            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(waited.compareTo(Duration.ofMillis(2900)) >= 0, "returned before the record existed: " + waited);
            assertTrue(waited.compareTo(Duration.ofSeconds(15)) < 0, "noticed it well before the timeout: " + waited);
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void aRecordThatNeverAppearsFailsAfterTheTimeoutWithAClearMessage() {
        String name = "_acme-challenge.never.example.test.";
        long start = System.nanoTime();

        AutocertException e = assertThrows(AutocertException.class,
                () -> propagation(PropagationCheck.AUTHORITATIVE).await(name, "never-value", Duration.ofSeconds(2), INTERVAL));

        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(waited.compareTo(Duration.ofMillis(1950)) >= 0, "gave up before the timeout: " + waited);
        assertTrue(waited.compareTo(Duration.ofSeconds(10)) < 0, "gave up late: " + waited);
        String message = e.getMessage();
        assertTrue(message.contains(name), message);
        assertTrue(message.contains("did not become visible at every authoritative name server within 2 s"), message);
        assertTrue(message.contains("autocert.dns-propagation-timeout"), "says what to change: " + message);
        assertTrue(e.retryable(), "the next attempt may see it");
    }

    @Test
    void takesALastLookAtTheDeadlineEvenWithALongerInterval() throws Exception {
        String name = "_acme-challenge.last-look.example.test.";
        ScheduledExecutorService other = Executors.newSingleThreadScheduledExecutor();
        try {
            other.schedule(() -> BIND.addRecord(name, "TXT", "last-look-value"), 1, TimeUnit.SECONDS);
            // one look now, and the last one at the deadline, 3 s on: not one look only
            propagation(PropagationCheck.AUTHORITATIVE).await(name, "last-look-value", Duration.ofSeconds(3), Duration.ofSeconds(60));
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void withoutACheckItWaitsTheTimeout() throws Exception {
        long start = System.nanoTime();
        propagation(PropagationCheck.NONE).await("_acme-challenge.unchecked.example.test.", "x", Duration.ofMillis(600), INTERVAL);
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofMillis(550)) >= 0);
    }

    @Test
    void withoutACheckTheTimeoutCountsFromPublication() throws Exception {
        // a second value of the same order, published with the first one, 2 s ago
        long publishedAt = System.nanoTime() - Duration.ofSeconds(2).toNanos();
        long start = System.nanoTime();
        propagation(PropagationCheck.NONE).await("_acme-challenge.unchecked.example.test.", "x", Duration.ofMillis(2500), INTERVAL,
                publishedAt);
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(waited.compareTo(Duration.ofMillis(1500)) < 0, "waited the whole timeout again: " + waited);
        assertTrue(waited.compareTo(Duration.ofMillis(400)) >= 0, "did not wait out the rest: " + waited);
    }

    @Test
    void aNameServerCountsWhenOneOfItsAddressesShowsTheValue() throws Exception {
        // ns1.v6.test: A 127.0.0.1 (BIND) and an AAAA that never answers, as Cloudflare's and Route 53's have both
        BIND.addRecord("ns1.v6.test", "AAAA", UNREACHABLE_V6);
        String name = "_acme-challenge.dual.v6.test.";
        BIND.addRecord(name, "TXT", "dual-value");

        // a host with IPv6, whose packets to that address go nowhere
        Propagation everyFamily = new Propagation(List.of("127.0.0.1:" + BIND.port()), PropagationCheck.AUTHORITATIVE, BIND.port(),
                address -> true);
        assertTrue(everyFamily.visible(name, "dual-value"));
        everyFamily.await(name, "dual-value", Duration.ofSeconds(20), INTERVAL);
    }

    @Test
    void addressesOfAFamilyTheHostCannotUseAreSkipped() throws Exception {
        // ns2.v6.test has an AAAA only: on a host without IPv6 it cannot be asked, and is not waited for
        BIND.addRecord("v6.test", "NS", "ns2.v6.test.");
        BIND.addRecord("ns2.v6.test", "AAAA", UNREACHABLE_V6);
        String name = "_acme-challenge.ipv4-only.v6.test.";
        Propagation ipv4Only = new Propagation(List.of("127.0.0.1:" + BIND.port()), PropagationCheck.AUTHORITATIVE, BIND.port(),
                address -> address instanceof Inet4Address);
        try {
            long start = System.nanoTime();
            assertFalse(ipv4Only.visible(name, "v4-value"));
            assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(4)) < 0,
                    "did not wait for the IPv6 address to time out");
            BIND.addRecord(name, "TXT", "v4-value");
            assertTrue(ipv4Only.visible(name, "v4-value"));
        } finally {
            BIND.removeRecord("v6.test", "NS", "ns2.v6.test.");
        }
    }

    @Test
    void aZoneWhoseNameServersAllHaveUnusableAddressesSaysWhatToSet() throws Exception {
        Propagation none = new Propagation(List.of("127.0.0.1:" + BIND.port()), PropagationCheck.AUTHORITATIVE, BIND.port(),
                address -> false);
        AutocertException e = assertThrows(AutocertException.class, () -> none.visible("_acme-challenge.x.example.test.", "v"));
        assertTrue(e.getMessage().contains("that this host can reach (ns1.example.test. [127.0.0.1])"), e.getMessage());
        assertTrue(e.getMessage().contains("autocert.dns-propagation-check=resolvers"), e.getMessage());
    }

    @Test
    void theSystemCanReachItsLoopback() throws Exception {
        assertTrue(Propagation.routable(InetAddress.getByName("127.0.0.1")));
    }

    @Test
    void parsesResolverAddresses() {
        assertEquals(53, Propagation.address("192.0.2.1").getPort());
        assertEquals(5353, Propagation.address("127.0.0.1:5353").getPort());
        assertEquals("127.0.0.1", Propagation.address("127.0.0.1:5353").getHostString());
        assertEquals(53, Propagation.address("::1").getPort());
        assertEquals(5353, Propagation.address("[::1]:5353").getPort());
    }
}
