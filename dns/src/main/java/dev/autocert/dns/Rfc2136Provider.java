package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Update;

/**
 * {@code autocert.dns-provider=rfc2136}: dynamic updates (RFC 2136) signed with TSIG (RFC 8945),
 * sent to the zone's primary server: BIND, Knot, PowerDNS, Windows DNS and every server that
 * takes them. Adding a record that exists, or deleting one that does not, changes nothing
 * (RFC 2136 section 3.4.2), and a delete names the one value it removes, so each call is
 * idempotent and leaves other values at the name alone. Thread-safe.
 */
final class Rfc2136Provider implements DnsProvider {

    private final InetSocketAddress server;
    private final TSIG tsig;
    private final String description;

    Rfc2136Provider(InetSocketAddress server, TSIG tsig, String keyName) {
        this.server = requireNonNull(server, "server");
        this.tsig = tsig;
        this.description = "rfc2136 (" + server.getHostString() + ":" + server.getPort() + (keyName != null ? ", key " + keyName : "") + ")";
    }

    @Override
    public void present(TxtRecord record) throws AutocertException {
        send(record, true);
    }

    @Override
    public void cleanUp(TxtRecord record) throws AutocertException {
        send(record, false);
    }

    private void send(TxtRecord record, boolean add) throws AutocertException {
        Name name = Propagation.name(record.name());
        Name zone;
        try {
            zone = Propagation.zone(List.of(server), name);
        } catch (AutocertException e) {
            throw new AutocertException("DNS-01 through " + description + ": could not find the zone of " + record.name()
                    + " at the server (" + e.getMessage().replaceFirst("^DNS-01: ", "").replaceFirst("; check that .*$", "")
                    + "); the server in the credentials must be reachable and be the primary server of that zone");
        }
        Update update = new Update(zone);
        if (add) {
            update.add(new TXTRecord(name, DClass.IN, record.ttl(), record.value()));
        } else {
            update.delete(new TXTRecord(name, DClass.IN, 0, record.value()));
        }
        SimpleResolver resolver = new SimpleResolver(server);
        resolver.setTimeout(Duration.ofSeconds(10));
        resolver.setTCP(true);
        if (tsig != null) {
            resolver.setTSIGKey(tsig);
        }
        Message answer;
        try {
            answer = resolver.send(update);
        } catch (IOException e) {
            throw new AutocertException("DNS-01 through " + description + ": " + (add ? "adding" : "removing") + " the TXT record "
                    + record.name() + " failed: " + e.getMessage());
        }
        int rcode = answer.getRcode();
        if (rcode != Rcode.NOERROR) {
            String hint = switch (rcode) {
                case Rcode.NOTAUTH -> "; the server did not accept the TSIG key: check its name, secret and algorithm";
                // PowerDNS also answers REFUSED, unsigned, to a wrong secret or an unknown key.
                case Rcode.REFUSED -> "; the server's update policy refuses this key for TXT records in " + zone
                        + ", or (PowerDNS) it did not accept the TSIG key: check its name, secret and algorithm";
                case Rcode.NOTZONE -> "; " + zone + " is not a zone of this server";
                default -> "";
            };
            throw new AutocertException("DNS-01 through " + description + ": " + (add ? "adding" : "removing") + " the TXT record "
                    + record.name() + " in zone " + zone + " was answered " + Rcode.string(rcode)
                    + (answer.getTSIG() != null && answer.getTSIG().getError() != 0 ? " (" + Rcode.TSIGstring(answer.getTSIG().getError()) + ")" : "")
                    + hint);
        }
        if (tsig != null && !answer.isVerified()) {
            // RFC 8945 section 5.3: a signed request's answer must carry a valid signature; else it may be forged.
            throw new AutocertException("DNS-01 through " + description + ": the answer to " + (add ? "adding" : "removing")
                    + " the TXT record " + record.name() + " was not signed with the TSIG key; something between here and the "
                    + "server may have answered in its place");
        }
    }

    @Override
    public String toString() {
        return description;
    }

    /** Its credentials: Certbot's {@code dns_rfc2136_*} keys or lego's {@code RFC2136_*} variables. */
    public static final class Factory implements DnsProviderFactory {

        @Override
        public String name() {
            return "rfc2136";
        }

        @Override
        public String variablePrefix() {
            return "RFC2136";
        }

        @Override
        public DnsProvider create(DnsCredentials credentials) {
            InetSocketAddress server;
            String legoServer = credentials.get(null, "RFC2136_NAMESERVER").orElse(null);
            String certbotServer = credentials.get("dns_rfc2136_server", null).orElse(null);
            if (certbotServer != null) {
                int port = credentials.integer("dns_rfc2136_port", null).orElse(53);
                server = new InetSocketAddress(certbotServer, port);
            } else if (legoServer != null) {
                server = Propagation.address(legoServer);
            } else {
                throw credentials.missing(List.of("dns_rfc2136_server"), List.of("RFC2136_NAMESERVER"));
            }
            if (server.isUnresolved()) {
                throw credentials.invalid("server", "'" + server.getHostString() + "' cannot be resolved; give its IP address");
            }
            String keyName = credentials.get("dns_rfc2136_name", "RFC2136_TSIG_KEY").orElse(null);
            String secret = credentials.get("dns_rfc2136_secret", "RFC2136_TSIG_SECRET").orElse(null);
            if ((keyName == null) != (secret == null)) {
                throw keyName == null ? credentials.missing(List.of("dns_rfc2136_name"), List.of("RFC2136_TSIG_KEY"))
                        : credentials.missing(List.of("dns_rfc2136_secret"), List.of("RFC2136_TSIG_SECRET"));
            }
            TSIG tsig = null;
            if (keyName != null) {
                // Each tool's own default: Certbot's HMAC-MD5 for its keys, lego's hmac-sha1 for its variables.
                String algorithm = credentials.get("dns_rfc2136_algorithm", "RFC2136_TSIG_ALGORITHM")
                        .orElse(credentials.get("dns_rfc2136_name", null).isPresent() ? "hmac-md5" : "hmac-sha1");
                Name algorithmName = algorithm(algorithm);
                if (algorithmName == null) {
                    throw credentials.invalid("algorithm", "'" + algorithm + "' is not a TSIG algorithm; use one of hmac-md5, "
                            + "hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512");
                }
                try {
                    tsig = new TSIG(algorithmName, keyName.endsWith(".") ? keyName : keyName + ".", secret);
                } catch (RuntimeException e) {
                    throw credentials.invalid("secret", "is not a base64 TSIG secret (as tsig-keygen or keymgr print it)");
                }
            }
            return new Rfc2136Provider(server, tsig, keyName);
        }

        /** A TSIG algorithm as Certbot ({@code HMAC-SHA512}), lego ({@code hmac-sha256.}) or BIND write it. */
        static Name algorithm(String value) {
            String v = value.toLowerCase(Locale.ROOT);
            if (v.endsWith(".")) {
                v = v.substring(0, v.length() - 1);
            }
            return switch (v) {
                case "hmac-md5", "hmac-md5.sig-alg.reg.int" -> TSIG.HMAC_MD5;
                case "hmac-sha1" -> TSIG.HMAC_SHA1;
                case "hmac-sha224" -> TSIG.HMAC_SHA224;
                case "hmac-sha256" -> TSIG.HMAC_SHA256;
                case "hmac-sha384" -> TSIG.HMAC_SHA384;
                case "hmac-sha512" -> TSIG.HMAC_SHA512;
                default -> null;
            };
        }
    }
}
