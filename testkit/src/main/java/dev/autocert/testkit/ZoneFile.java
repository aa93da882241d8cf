package dev.autocert.testkit;

/**
 * The initial contents of every zone a test DNS server serves: an SOA, {@code NS ns1.ZONE.}, and
 * {@code A 127.0.0.1} for {@code ns1}, the apex and {@code *}.
 *
 * <p>The A records matter when Pebble resolves through the server: it sends every lookup there,
 * also those of HTTP-01 and TLS-ALPN-01, which must reach the application on loopback.
 */
final class ZoneFile {

    /** Time to live of every record, in seconds; short, as tests change records. */
    static final int TTL = 60;

    /** The address every name of the zone resolves to. */
    static final String ADDRESS = "127.0.0.1";

    private ZoneFile() {
    }

    /** {@return the name of the zone's one name server, {@code ns1.ZONE.}} */
    static String nameServer(String zone) {
        return "ns1." + zone + ".";
    }

    /** {@return the SOA's data: primary, mailbox, serial 1, refresh, retry, expire, negative TTL} */
    static String soa(String zone) {
        return nameServer(zone) + " hostmaster." + zone + ". 1 3600 600 86400 " + TTL;
    }

    /** {@return the zone in master file format (RFC 1035 section 5)} */
    static String render(String zone) {
        return "$ORIGIN " + zone + ".\n"
                + "$TTL " + TTL + "\n"
                + "@    IN SOA " + soa(zone) + "\n"
                + "@    IN NS  " + nameServer(zone) + "\n"
                + "ns1  IN A   " + ADDRESS + "\n"
                + "@    IN A   " + ADDRESS + "\n"
                + "*    IN A   " + ADDRESS + "\n";
    }
}
