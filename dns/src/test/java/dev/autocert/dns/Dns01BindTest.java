package dev.autocert.dns;

import dev.autocert.testkit.BindServer;
import dev.autocert.testkit.DnsServer;
import dev.autocert.testkit.PebbleServer;
import org.junit.jupiter.api.extension.RegisterExtension;

/** DNS-01 end to end: the engine updates BIND through RFC 2136, and Pebble validates by querying BIND. */
class Dns01BindTest extends Dns01IssuanceContract {

    @RegisterExtension
    static final BindServer BIND = BindServer.builder().build();

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(BIND.address()).build();

    @Override
    DnsServer dns() {
        return BIND;
    }

    @Override
    PebbleServer pebble() {
        return PEBBLE;
    }
}
