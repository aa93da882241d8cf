package dev.autocert.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Update;

/**
 * What every test DNS server does, run against each by its subclass: serves its zones with the
 * usual records, takes TXT updates signed with its key, refuses a wrong secret, changes records
 * for the test, and rotates its key.
 */
abstract class DnsServerContract {

    /** {@return the server under test, running} */
    abstract DnsServer server();

    /** {@return what the server answers an update signed with a wrong secret: NOTAUTH (BADSIG), as RFC 8945 says} */
    int wrongSecretRcode() {
        return Rcode.NOTAUTH;
    }

    @Test
    void servesEachZoneWithItsNameServerAndLoopbackAddresses() {
        DnsServer server = server();
        assertTrue(server.isRunning());
        for (String zone : server.zones()) {
            assertEquals(List.of("ns1." + zone + "."), server.query(zone, "NS"), zone);
            assertTrue(server.query(zone, "SOA").get(0).startsWith("ns1." + zone + ". hostmaster." + zone + ". "),
                    server.query(zone, "SOA").toString());
            for (String name : List.of("ns1." + zone, zone, "www." + zone, "anything.below." + zone)) {
                assertEquals(List.of("127.0.0.1"), server.query(name, "A"), name);
            }
        }
    }

    @Test
    void takesTxtUpdatesSignedWithItsKeyAndKeepsOtherValues() throws Exception {
        DnsServer server = server();
        String name = "_acme-challenge.contract." + server.zone();
        assertEquals(Rcode.NOERROR, update(server, server.secret(), name, "one", true));
        assertEquals(Rcode.NOERROR, update(server, server.secret(), name, "two", true));
        assertEquals(List.of("one", "two"), server.txt(name).stream().sorted().toList());
        assertEquals(Rcode.NOERROR, update(server, server.secret(), name, "one", false));
        assertEquals(List.of("two"), server.txt(name));
        assertEquals(Rcode.NOERROR, update(server, server.secret(), name, "two", false));
        assertEquals(List.of(), server.txt(name));
    }

    @Test
    void refusesAnUpdateSignedWithAWrongSecret() throws Exception {
        DnsServer server = server();
        String wrong = Base64.getEncoder().encodeToString(new byte[32]);
        assertEquals(wrongSecretRcode(), update(server, wrong, "_acme-challenge.wrong." + server.zone(), "x", true));
        assertEquals(List.of(), server.txt("_acme-challenge.wrong." + server.zone()));
    }

    @Test
    void addsAndRemovesAnyRecordForTheTest() {
        DnsServer server = server();
        String name = "_acme-challenge.delegated." + server.zone();
        server.addRecord(name, "CNAME", "acme.other.test.");
        assertEquals(List.of("acme.other.test."), server.query(name, "CNAME"));
        server.removeRecords(name, "CNAME");
        assertEquals(List.of(), server.query(name, "CNAME"));

        String txt = "_acme-challenge.direct." + server.zone();
        server.addRecord(txt, "TXT", "\"a value\"");
        server.addRecord(txt, "TXT", "other");
        assertEquals(List.of("a value", "other"), server.txt(txt).stream().sorted().toList());
        server.removeRecord(txt, "TXT", "other");
        assertEquals(List.of("a value"), server.txt(txt));
        server.removeRecords(txt, "TXT");
        assertEquals(List.of(), server.txt(txt));
        assertThrows(IllegalArgumentException.class, () -> server.addRecord("www.elsewhere.invalid", "A", "127.0.0.1"));
    }

    @Test
    void rotatesItsKey() throws Exception {
        DnsServer server = server();
        String before = server.secret();
        String name = "_acme-challenge.rotated." + server.zone();
        server.rotateKey();
        assertNotEquals(before, server.secret());
        assertEquals(wrongSecretRcode(), update(server, before, name, "old", true), "the old secret no longer works");
        assertEquals(Rcode.NOERROR, update(server, server.secret(), name, "new", true));
        assertEquals(List.of("new"), server.txt(name));
        assertTrue(server.rfc2136Credentials().contains("dns_rfc2136_secret = " + server.secret() + "\n"));
    }

    @Test
    void neverShowsItsSecret() {
        DnsServer server = server();
        assertFalse(server.toString().contains(server.secret()));
        assertTrue(server.rfc2136Credentials().contains("dns_rfc2136_port = " + server.port() + "\n"));
        assertEquals("hmac-sha256", server.algorithm());
        assertEquals("acme-key", server.keyName());
    }

    /** Sends one RFC 2136 update adding or deleting one TXT value, as a DNS-01 client would. */
    static int update(DnsServer server, String secret, String name, String value, boolean add) throws Exception {
        Name owner = Name.fromString(name + ".");
        Update update = new Update(Name.fromString(server.zone() + "."));
        TXTRecord record = new TXTRecord(owner, DClass.IN, 60, value);
        if (add) {
            update.add(record);
        } else {
            update.delete(record);
        }
        SimpleResolver resolver = new SimpleResolver(server.address());
        resolver.setTCP(true);
        resolver.setTimeout(Duration.ofSeconds(5));
        resolver.setTSIGKey(new TSIG(TSIG.HMAC_SHA256, server.keyName() + ".", secret));
        Message answer = resolver.send(update);
        return answer.getRcode();
    }
}
