package dev.autocert.dns;

import dev.autocert.testkit.DnsServer;
import dev.autocert.testkit.KnotServer;
import dev.autocert.testkit.PebbleServer;
import org.junit.jupiter.api.extension.RegisterExtension;

/** DNS-01 end to end: the engine updates Knot DNS through RFC 2136, and Pebble validates by querying Knot. */
class Dns01KnotTest extends Dns01IssuanceContract {

    @RegisterExtension
    static final KnotServer KNOT = KnotServer.builder().build();

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(KNOT.address()).build();

    @Override
    DnsServer dns() {
        return KNOT;
    }

    @Override
    PebbleServer pebble() {
        return PEBBLE;
    }
}
