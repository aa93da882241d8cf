package dev.autocert.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.xbill.DNS.Rcode;

/** Knot DNS with its default zone. */
class KnotServerTest extends DnsServerContract {

    @RegisterExtension
    static final KnotServer KNOT = KnotServer.builder().build();

    @Override
    DnsServer server() {
        return KNOT;
    }

    @Test
    void takesTxtUpdatesOnlyForItsKey() throws Exception {
        var update = new org.xbill.DNS.Update(org.xbill.DNS.Name.fromString("example.test."));
        update.add(org.xbill.DNS.Name.fromString("www.example.test."), org.xbill.DNS.Type.A, 60, "127.0.0.2");
        var resolver = new org.xbill.DNS.SimpleResolver(KNOT.address());
        resolver.setTCP(true);
        resolver.setTSIGKey(new org.xbill.DNS.TSIG(org.xbill.DNS.TSIG.HMAC_SHA256, KNOT.keyName() + ".", KNOT.secret()));
        int rcode = resolver.send(update).getRcode();
        // Knot answers an update its ACL does not allow NOTAUTH (BADKEY) rather than REFUSED.
        assertEquals(true, rcode == Rcode.NOTAUTH || rcode == Rcode.REFUSED, Rcode.string(rcode));
        assertEquals(List.of("127.0.0.1"), KNOT.query("www.example.test", "A"));
    }
}
