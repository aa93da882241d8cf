package dev.autocert.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.xbill.DNS.Rcode;

/** BIND with two zones, and a Pebble that resolves through it. */
class BindServerTest extends DnsServerContract {

    @RegisterExtension
    static final BindServer BIND = BindServer.builder().zones("example.test", "other.test").build();

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(BIND.address()).build();

    @Override
    DnsServer server() {
        return BIND;
    }

    @Test
    void isResolvedAsParameter(BindServer bind) {
        assertSame(BIND, bind);
    }

    @Test
    void takesTxtUpdatesOnlyForItsKey() throws Exception {
        var update = new org.xbill.DNS.Update(org.xbill.DNS.Name.fromString("other.test."));
        update.add(org.xbill.DNS.Name.fromString("www.other.test."), org.xbill.DNS.Type.A, 60, "127.0.0.2");
        var resolver = new org.xbill.DNS.SimpleResolver(BIND.address());
        resolver.setTCP(true);
        resolver.setTSIGKey(new org.xbill.DNS.TSIG(org.xbill.DNS.TSIG.HMAC_SHA256, BIND.keyName() + ".", BIND.secret()));
        assertEquals(Rcode.REFUSED, resolver.send(update).getRcode(), "grant acme-key zonesub TXT");
        assertEquals(List.of("127.0.0.1"), BIND.query("www.other.test", "A"));
    }

    @Test
    void pebbleResolvesThroughIt() {
        assertEquals(BIND.address(), PEBBLE.dnsAddress());
        assertTrue(PEBBLE.isRunning());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> PEBBLE.setTxt("_acme-challenge.example.test", "x"));
        assertTrue(e.getMessage().contains("change the records in that server"), e.getMessage());
    }
}
