package dev.autocert.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** PowerDNS with RFC 2136 updates, and its API. */
class PowerDnsServerTest extends DnsServerContract {

    @RegisterExtension
    static final PowerDnsServer PDNS = PowerDnsServer.builder().rfc2136().build();

    @Override
    DnsServer server() {
        return PDNS;
    }

    /** PowerDNS answers REFUSED, unsigned, where BIND and Knot answer NOTAUTH. */
    @Override
    int wrongSecretRcode() {
        return org.xbill.DNS.Rcode.REFUSED;
    }

    @Test
    void itsApiWantsTheKey() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI zone = URI.create(PDNS.apiUrl() + "/zones/example.test.");
        assertEquals(200, http.send(HttpRequest.newBuilder(zone).header("X-API-Key", PDNS.apiKey()).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
        assertEquals(401, http.send(HttpRequest.newBuilder(zone).header("X-API-Key", "wrong").build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
    }

    @Test
    void withoutRfc2136ItHasNoKey() {
        PowerDnsServer plain = PowerDnsServer.builder().build();
        IllegalStateException e = assertThrows(IllegalStateException.class, plain::secret);
        assertTrue(e.getMessage().contains("rfc2136()"), e.getMessage());
    }
}
