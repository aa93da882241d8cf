package dev.autocert.dns;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsSettings.PropagationCheck;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ResolverConfig;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Where a challenge's TXT record goes and when the CA can see it: follows a CNAME on {@code
 * _acme-challenge} (ACME-DNS and other delegations), finds the zone through SOA and its
 * authoritative servers through NS, and asks each of them directly until all answer with the
 * value. Thread-safe; each lookup uses its own resolver.
 */
final class Propagation {

    private static final Logger LOG = LoggerFactory.getLogger(Propagation.class);
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_CNAMES = 8;

    private final List<InetSocketAddress> resolvers;
    private final PropagationCheck check;
    private final int nameserverPort;

    /**
     * @param resolvers      {@code host} or {@code host:port}; empty for the system's
     * @param nameserverPort the port authoritative servers are asked on: 53, but for tests
     */
    Propagation(List<String> resolvers, PropagationCheck check, int nameserverPort) {
        this.resolvers = resolvers.isEmpty() ? ResolverConfig.getCurrentConfig().servers()
                : resolvers.stream().map(Propagation::address).toList();
        this.check = check;
        this.nameserverPort = nameserverPort;
    }

    static InetSocketAddress address(String hostPort) {
        String host = hostPort;
        int port = 53;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            host = hostPort.substring(1, close);
            if (hostPort.length() > close + 2) {
                port = Integer.parseInt(hostPort.substring(close + 2));
            }
        } else if (hostPort.indexOf(':') > 0 && hostPort.indexOf(':') == hostPort.lastIndexOf(':')) {
            host = hostPort.substring(0, hostPort.indexOf(':'));
            port = Integer.parseInt(hostPort.substring(hostPort.indexOf(':') + 1));
        }
        return new InetSocketAddress(host, port);
    }

    /** The name the TXT record goes at: {@code name}, or where its CNAME chain ends. */
    String target(String name) throws AutocertException {
        Name current = name(name);
        for (int i = 0; i < MAX_CNAMES; i++) {
            Message answer = query(resolvers, current, Type.CNAME, true);
            Name next = null;
            for (Record record : answer.getSection(Section.ANSWER)) {
                if (record instanceof CNAMERecord cname && record.getName().equals(current)) {
                    next = cname.getTarget();
                }
            }
            if (next == null) {
                return current.toString().toLowerCase(Locale.ROOT);
            }
            LOG.debug("{} is a CNAME for {}", current, next);
            current = next;
        }
        throw new AutocertException("DNS-01: " + name + " has a CNAME chain longer than " + MAX_CNAMES);
    }

    /** The zone holding {@code name}: the closest enclosing name with an SOA record. */
    String zone(String name) throws AutocertException {
        return zone(resolvers, name(name)).toString().toLowerCase(Locale.ROOT);
    }

    /** The zone holding {@code name}, asking {@code servers}. */
    static Name zone(List<InetSocketAddress> servers, Name name) throws AutocertException {
        AutocertException last = null;
        for (Name candidate = name; candidate.labels() > 1; candidate = new Name(candidate, 1)) {
            Message answer;
            try {
                answer = query(servers, candidate, Type.SOA, true);
            } catch (AutocertException e) {
                if (!(e.getCause() instanceof RcodeAnswer)) {
                    throw e; // no answer at all: asking about the parent would only wait again
                }
                // An authoritative server refuses names outside its zones: the zone may be further up.
                last = e;
                continue;
            }
            for (Record record : answer.getSection(Section.ANSWER)) {
                if (record instanceof SOARecord && record.getName().equals(candidate)) {
                    return candidate;
                }
            }
            for (Record record : answer.getSection(Section.AUTHORITY)) {
                if (record instanceof SOARecord && name.subdomain(record.getName())) {
                    return record.getName(); // the negative answer names the zone
                }
            }
        }
        throw new AutocertException("DNS-01: no zone found for " + name + " at " + describe(servers)
                + (last != null ? " (" + last.getMessage().replaceFirst("^DNS-01: ", "") + ")" : "")
                + "; check that the name is delegated, or set autocert.dns-resolvers");
    }

    /** Whether every server that should answer has {@code value} at {@code name} now. */
    boolean visible(String name, String value) throws AutocertException {
        Name n = name(name);
        List<InetSocketAddress> servers = switch (check) {
            case NONE -> List.of();
            case RESOLVERS -> resolvers;
            case AUTHORITATIVE -> authoritative(n);
        };
        for (InetSocketAddress server : servers) {
            Message answer = query(List.of(server), n, Type.TXT, check == PropagationCheck.RESOLVERS);
            boolean found = false;
            for (Record record : answer.getSection(Section.ANSWER)) {
                if (record instanceof TXTRecord txt && String.join("", txt.getStrings()).equals(value)) {
                    found = true;
                }
            }
            if (!found) {
                LOG.debug("{} does not show the TXT value at {} yet", describe(server), name);
                return false;
            }
        }
        return true;
    }

    /**
     * Waits until {@code value} is visible at {@code name}, looking every {@code interval} for
     * up to {@code timeout}; with no check ({@code autocert.dns-propagation-check=none}), just
     * waits the timeout, as {@link PropagationCheck#NONE} says.
     */
    void await(String name, String value, Duration timeout, Duration interval) throws AutocertException, InterruptedException {
        if (check == PropagationCheck.NONE) {
            Thread.sleep(timeout.toMillis());
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        AutocertException last = null;
        while (true) {
            try {
                if (visible(name, value)) {
                    return;
                }
                last = null;
            } catch (AutocertException e) {
                last = e; // a server that does not answer yet is waited for like a missing record
            }
            if (System.nanoTime() + interval.toNanos() > deadline) {
                throw new AutocertException("DNS-01: the TXT record " + name + " did not become visible at "
                        + (check == PropagationCheck.AUTHORITATIVE ? "every authoritative name server" : "the resolvers " + describe(resolvers))
                        + " within " + timeout.toSeconds() + " s" + (last != null ? " (" + last.getMessage() + ")" : "")
                        + "; raise autocert.dns-propagation-timeout if the provider is slow to publish"
                        + (check == PropagationCheck.RESOLVERS ? ", or check that autocert.dns-resolvers see the zone the provider changes" : ""));
            }
            Thread.sleep(interval.toMillis());
        }
    }

    private List<InetSocketAddress> authoritative(Name name) throws AutocertException {
        Name zone = zone(resolvers, name);
        Message answer = query(resolvers, zone, Type.NS, true);
        List<InetSocketAddress> servers = new ArrayList<>();
        for (Record record : answer.getSection(Section.ANSWER)) {
            if (record instanceof NSRecord ns) {
                for (InetAddress address : addresses(ns.getTarget(), answer)) {
                    servers.add(new InetSocketAddress(address, nameserverPort));
                }
            }
        }
        if (servers.isEmpty()) {
            throw new AutocertException("DNS-01: no name server address found for the zone " + zone);
        }
        return servers;
    }

    private List<InetAddress> addresses(Name host, Message glue) throws AutocertException {
        List<InetAddress> found = new ArrayList<>();
        for (Record record : glue.getSection(Section.ADDITIONAL)) {
            if (record.getName().equals(host) && record instanceof ARecord a) {
                found.add(a.getAddress());
            } else if (record.getName().equals(host) && record instanceof AAAARecord aaaa) {
                found.add(aaaa.getAddress());
            }
        }
        if (found.isEmpty()) {
            for (int type : new int[] {Type.A, Type.AAAA}) {
                for (Record record : query(resolvers, host, type, true).getSection(Section.ANSWER)) {
                    if (record instanceof ARecord a) {
                        found.add(a.getAddress());
                    } else if (record instanceof AAAARecord aaaa) {
                        found.add(aaaa.getAddress());
                    }
                }
            }
        }
        return found;
    }

    /** One query to the first of {@code servers} that answers. */
    static Message query(List<InetSocketAddress> servers, Name name, int type, boolean recursive) throws AutocertException {
        Message question = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        if (!recursive) {
            question.getHeader().unsetFlag(Flags.RD);
        }
        IOException last = null;
        for (InetSocketAddress server : servers) {
            SimpleResolver resolver = new SimpleResolver(server);
            resolver.setTimeout(QUERY_TIMEOUT);
            try {
                Message answer = resolver.send(question);
                int rcode = answer.getRcode();
                if (rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN) {
                    return answer;
                }
                last = new RcodeAnswer(describe(server) + " answered " + Rcode.string(rcode));
            } catch (IOException e) {
                last = e;
            }
        }
        throw new AutocertException("DNS-01: cannot look up " + Type.string(type) + " " + name + ": "
                + (last != null ? last.getMessage() : "no resolvers"), last);
    }

    /** A server answered, but with an error code such as REFUSED or SERVFAIL; as opposed to not answering. */
    private static final class RcodeAnswer extends IOException {
        RcodeAnswer(String message) {
            super(message);
        }
    }

    /** {@return {@code host:port}, as users write it in {@code autocert.dns-resolvers}} */
    static String describe(InetSocketAddress address) {
        String host = address.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    static String describe(List<InetSocketAddress> addresses) {
        return addresses.stream().map(Propagation::describe).collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    }

    static Name name(String name) throws AutocertException {
        try {
            return Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            throw new AutocertException("DNS-01: '" + name + "' is not a DNS name");
        }
    }
}
