package dev.autocert.dns;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsSettings.PropagationCheck;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
 * value. A name server counts as showing the value when any of its addresses this host can
 * reach does: addresses of a family this host has no route for (IPv6 in a container with IPv4
 * only) are skipped, and an address that does not answer does not hold the others back.
 * Thread-safe; each lookup uses its own resolver.
 */
final class Propagation {

    private static final Logger LOG = LoggerFactory.getLogger(Propagation.class);
    /** How long one query may take, at most. */
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(5);
    /** How long a query may take however close the deadline: a last look at the deadline still gets an answer. */
    private static final Duration MIN_QUERY_TIMEOUT = Duration.ofSeconds(1);
    private static final int MAX_CNAMES = 8;

    private final List<InetSocketAddress> resolvers;
    private final PropagationCheck check;
    private final int nameserverPort;
    private final Predicate<InetAddress> routable;

    /**
     * @param resolvers      {@code host} or {@code host:port}; empty for the system's
     * @param nameserverPort the port authoritative servers are asked on: 53, but for tests
     */
    Propagation(List<String> resolvers, PropagationCheck check, int nameserverPort) {
        this(resolvers, check, nameserverPort, Propagation::routable);
    }

    /** As {@link #Propagation(List, PropagationCheck, int)}, with {@code routable} deciding which name server addresses to ask (tests). */
    Propagation(List<String> resolvers, PropagationCheck check, int nameserverPort, Predicate<InetAddress> routable) {
        this.resolvers = resolvers.isEmpty() ? ResolverConfig.getCurrentConfig().servers()
                : resolvers.stream().map(Propagation::address).toList();
        this.check = check;
        this.nameserverPort = nameserverPort;
        this.routable = routable;
    }

    /** When a check must end; each query's timeout is cut to fit. */
    private record Deadline(long nanos, boolean bounded) {

        static final Deadline NONE = new Deadline(0, false);

        static Deadline in(Duration timeout) {
            return new Deadline(System.nanoTime() + timeout.toNanos(), true);
        }

        long remainingNanos() {
            return bounded ? nanos - System.nanoTime() : Long.MAX_VALUE;
        }

        Duration queryTimeout() {
            long remaining = remainingNanos();
            return remaining >= QUERY_TIMEOUT.toNanos() ? QUERY_TIMEOUT
                    : Duration.ofNanos(Math.max(remaining, MIN_QUERY_TIMEOUT.toNanos()));
        }
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
            Message answer = query(resolvers, current, Type.CNAME, true, Deadline.NONE);
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
        return zone(servers, name, Deadline.NONE);
    }

    private static Name zone(List<InetSocketAddress> servers, Name name, Deadline deadline) throws AutocertException {
        AutocertException last = null;
        for (Name candidate = name; candidate.labels() > 1; candidate = new Name(candidate, 1)) {
            Message answer;
            try {
                answer = query(servers, candidate, Type.SOA, true, deadline);
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
        return visible(name, value, Deadline.NONE);
    }

    private boolean visible(String name, String value, Deadline deadline) throws AutocertException {
        Name n = name(name);
        switch (check) {
            case NONE -> {
                return true;
            }
            case RESOLVERS -> {
                for (InetSocketAddress resolver : resolvers) {
                    if (!shows(query(List.of(resolver), n, Type.TXT, true, deadline), value)) {
                        LOG.debug("{} does not show the TXT value at {} yet", describe(resolver), name);
                        return false;
                    }
                }
                return true;
            }
            case AUTHORITATIVE -> {
                for (Map.Entry<Name, List<InetAddress>> host : authoritative(n, deadline).entrySet()) {
                    if (!shows(host.getKey(), host.getValue(), n, value, deadline)) {
                        return false;
                    }
                }
                return true;
            }
            default -> throw new IllegalStateException("unknown check " + check);
        }
    }

    /**
     * Whether the name server {@code host} shows {@code value}: whether any of its addresses
     * does. An address that answers without it is not enough to give up (anycast, or one
     * lagging behind the others), nor is one that does not answer.
     *
     * @throws AutocertException when none of its addresses answers
     */
    private boolean shows(Name host, List<InetAddress> addresses, Name name, String value, Deadline deadline) throws AutocertException {
        AutocertException failure = null;
        boolean answered = false;
        for (InetAddress address : addresses) {
            InetSocketAddress server = new InetSocketAddress(address, nameserverPort);
            try {
                if (shows(query(List.of(server), name, Type.TXT, false, deadline), value)) {
                    return true;
                }
                answered = true;
            } catch (AutocertException e) {
                LOG.debug("The name server {} did not answer at {}: {}", host, describe(server), e.getMessage());
                failure = e;
            }
        }
        if (!answered && failure != null) {
            throw failure;
        }
        LOG.debug("The name server {} does not show the TXT value at {} yet", host, name);
        return false;
    }

    private static boolean shows(Message answer, String value) {
        for (Record record : answer.getSection(Section.ANSWER)) {
            if (record instanceof TXTRecord txt && String.join("", txt.getStrings()).equals(value)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits until {@code value} is visible at {@code name}, looking every {@code interval} for
     * up to {@code timeout}; with no check ({@code autocert.dns-propagation-check=none}), just
     * waits the timeout, as {@link PropagationCheck#NONE} says.
     */
    void await(String name, String value, Duration timeout, Duration interval) throws AutocertException, InterruptedException {
        await(name, value, timeout, interval, System.nanoTime());
    }

    /**
     * As {@link #await(String, String, Duration, Duration)} for a value published at {@code
     * publishedAt} ({@link System#nanoTime()}): with no check, waits only until the timeout has
     * passed since then, so the values of one order, published together, share one wait.
     */
    void await(String name, String value, Duration timeout, Duration interval, long publishedAt)
            throws AutocertException, InterruptedException {
        if (check == PropagationCheck.NONE) {
            long left = publishedAt + timeout.toNanos() - System.nanoTime();
            if (left > 0) {
                TimeUnit.NANOSECONDS.sleep(left);
            }
            return;
        }
        Deadline deadline = Deadline.in(timeout);
        AutocertException last = null;
        while (true) {
            try {
                if (visible(name, value, deadline)) {
                    return;
                }
                last = null;
            } catch (AutocertException e) {
                last = e; // a server that does not answer yet is waited for like a missing record
            }
            long left = deadline.remainingNanos();
            if (left <= 0) {
                throw new AutocertException("DNS-01: the TXT record " + name + " did not become visible at "
                        + (check == PropagationCheck.AUTHORITATIVE ? "every authoritative name server" : "the resolvers " + describe(resolvers))
                        + " within " + timeout.toSeconds() + " s" + (last != null ? " (" + last.getMessage() + ")" : "")
                        + "; raise autocert.dns-propagation-timeout if the provider is slow to publish"
                        + (check == PropagationCheck.RESOLVERS ? ", or check that autocert.dns-resolvers see the zone the provider changes" : ""));
            }
            // the last look is at the deadline itself, not an interval before it
            TimeUnit.NANOSECONDS.sleep(Math.min(interval.toNanos(), left));
        }
    }

    /** The zone's name servers, each with its addresses this host can reach, IPv4 first. */
    private Map<Name, List<InetAddress>> authoritative(Name name, Deadline deadline) throws AutocertException {
        Name zone = zone(resolvers, name, deadline);
        Message answer = query(resolvers, zone, Type.NS, true, deadline);
        Map<Name, List<InetAddress>> hosts = new LinkedHashMap<>();
        List<String> unreachable = new ArrayList<>();
        for (Record record : answer.getSection(Section.ANSWER)) {
            if (record instanceof NSRecord ns && !hosts.containsKey(ns.getTarget())) {
                List<InetAddress> all = addresses(ns.getTarget(), answer, deadline);
                List<InetAddress> usable = all.stream().filter(routable)
                        .sorted(Comparator.comparing(a -> a instanceof Inet4Address ? 0 : 1)).toList();
                if (usable.size() < all.size()) {
                    LOG.debug("Skipping the addresses of {} this host has no route to: {}", ns.getTarget(),
                            all.stream().filter(a -> !usable.contains(a)).map(InetAddress::getHostAddress).toList());
                }
                if (!usable.isEmpty()) {
                    hosts.put(ns.getTarget(), usable);
                } else if (!all.isEmpty()) {
                    unreachable.add(ns.getTarget() + " " + all.stream().map(InetAddress::getHostAddress).toList());
                }
            }
        }
        if (hosts.isEmpty()) {
            throw new AutocertException("DNS-01: no name server address found for the zone " + zone
                    + (unreachable.isEmpty() ? "" : " that this host can reach (" + String.join(", ", unreachable)
                    + "); set autocert.dns-propagation-check=resolvers to check through resolvers instead"));
        }
        return hosts;
    }

    /** The addresses of {@code host}: from the glue of the NS answer, else looked up (A and AAAA; either may fail). */
    private List<InetAddress> addresses(Name host, Message glue, Deadline deadline) throws AutocertException {
        List<InetAddress> found = new ArrayList<>();
        for (Record record : glue.getSection(Section.ADDITIONAL)) {
            if (record.getName().equals(host) && record instanceof ARecord a) {
                found.add(a.getAddress());
            } else if (record.getName().equals(host) && record instanceof AAAARecord aaaa) {
                found.add(aaaa.getAddress());
            }
        }
        if (found.isEmpty()) {
            AutocertException failure = null;
            for (int type : new int[] {Type.A, Type.AAAA}) {
                try {
                    for (Record record : query(resolvers, host, type, true, deadline).getSection(Section.ANSWER)) {
                        if (record instanceof ARecord a) {
                            found.add(a.getAddress());
                        } else if (record instanceof AAAARecord aaaa) {
                            found.add(aaaa.getAddress());
                        }
                    }
                } catch (AutocertException e) {
                    failure = e;
                }
            }
            if (found.isEmpty() && failure != null) {
                throw failure;
            }
        }
        return found;
    }

    /**
     * Whether this host can send to {@code address}: it has an address of the same family, a
     * loopback one for a loopback destination, else one that is neither loopback nor link-local.
     * When the interfaces cannot be listed, every address is taken for reachable.
     */
    static boolean routable(InetAddress address) {
        Class<?> family = address instanceof Inet6Address ? Inet6Address.class : Inet4Address.class;
        try {
            Enumeration<NetworkInterface> interfaces = NetworkInterface.getNetworkInterfaces();
            if (interfaces == null) {
                return true;
            }
            for (NetworkInterface nic : Collections.list(interfaces)) {
                if (!nic.isUp()) {
                    continue;
                }
                for (InetAddress own : Collections.list(nic.getInetAddresses())) {
                    if (family.isInstance(own) && (address.isLoopbackAddress() ? own.isLoopbackAddress()
                            : !own.isLoopbackAddress() && !own.isLinkLocalAddress())) {
                        return true;
                    }
                }
            }
            return false;
        } catch (SocketException e) {
            return true;
        }
    }

    /** One query to the first of {@code servers} that answers. */
    static Message query(List<InetSocketAddress> servers, Name name, int type, boolean recursive) throws AutocertException {
        return query(servers, name, type, recursive, Deadline.NONE);
    }

    /** One query to the first of {@code servers} that answers, each given as long as {@code deadline} leaves. */
    private static Message query(List<InetSocketAddress> servers, Name name, int type, boolean recursive, Deadline deadline)
            throws AutocertException {
        Message question = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        if (!recursive) {
            question.getHeader().unsetFlag(Flags.RD);
        }
        IOException last = null;
        for (InetSocketAddress server : servers) {
            SimpleResolver resolver = new SimpleResolver(server);
            resolver.setTimeout(deadline.queryTimeout());
            try {
                Message answer = resolver.send(question);
                int rcode = answer.getRcode();
                if (rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN) {
                    return answer;
                }
                last = new RcodeAnswer(describe(server) + " answered " + Rcode.string(rcode));
            } catch (IOException e) {
                last = e;
            } catch (RuntimeException e) {
                // an address family the JDK cannot send to here (UnsupportedAddressTypeException), and the like
                last = new IOException(describe(server) + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() != null ? ": " + e.getMessage() : ""), e);
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
