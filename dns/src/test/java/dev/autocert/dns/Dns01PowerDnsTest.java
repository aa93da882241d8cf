package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.DnsServer;
import dev.autocert.testkit.PebbleServer;
import dev.autocert.testkit.PowerDnsServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** DNS-01 end to end: the engine updates PowerDNS through RFC 2136 (its dnsupdate mode), and Pebble validates by querying PowerDNS. */
class Dns01PowerDnsTest extends Dns01IssuanceContract {

    @RegisterExtension
    static final PowerDnsServer PDNS = PowerDnsServer.builder().rfc2136().build();

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(PDNS.address()).build();

    @Override
    DnsServer dns() {
        return PDNS;
    }

    @Override
    PebbleServer pebble() {
        return PEBBLE;
    }

    /** The same issuance through PowerDNS's HTTP API (the {@code powerdns} provider) instead of RFC 2136. */
    @Test
    void issuesAWildcardAndApexCertificateThroughTheHttpApi(@TempDir Path dir) throws Exception {
        Path credentials = Dns01Fixtures.writeCredentials(dir.resolve("pdns.ini"),
                "PDNS_API_URL = http://127.0.0.1:" + PDNS.apiPort() + "\nPDNS_API_KEY = " + PDNS.apiKey() + "\n");
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties())
                .properties(Map.of("autocert.challenges", "dns-01", "autocert.dns-provider", "powerdns",
                        "autocert.dns-credentials", credentials.toString(), "autocert.dns-propagation-check", "resolvers",
                        "autocert.dns-resolvers", "127.0.0.1:" + PDNS.port(), "autocert.dns-polling-interval", "PT0.2S"))
                .domains("*.api.example.test,api.example.test").email("admin@example.test").storage(dir.resolve("storage")).build();
        Dns01Fixtures.Events events = new Dns01Fixtures.Events();

        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, "*.api.example.test", Dns01Fixtures.TIMEOUT).certificate();
            assertEquals(List.of("*.api.example.test", "api.example.test"), Dns01Fixtures.dnsNames(issued.certificate()));
            Dns01Fixtures.verifyChain(issued.chain(), PEBBLE.issuingRoot());
        }
        assertEquals(List.of(), PDNS.txt("_acme-challenge.api.example.test"), "both values removed through the API");
        assertStoredNowhere(dir.resolve("storage"), PDNS.apiKey());
    }
}
