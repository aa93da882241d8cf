package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One certificate Autocert keeps: its name (the first domain, also its directory name in
 * storage) and every identifier it covers, in the order configured: DNS names, wildcards and IP
 * addresses (RFC 8738).
 *
 * @param name    the lineage name, the first of {@code domains}
 * @param domains the names on the certificate, ASCII (punycode) and lower case
 */
public record ManagedCertificate(String name, List<String> domains) {

    public ManagedCertificate {
        requireNonNull(name, "name");
        domains = List.copyOf(domains);
        if (domains.isEmpty() || !domains.get(0).equals(name)) {
            throw new IllegalArgumentException("name must be the first domain: " + name + " " + domains);
        }
    }

    /** A certificate whose name is its first domain. */
    static ManagedCertificate of(List<String> domains) {
        return new ManagedCertificate(domains.get(0), domains);
    }

    /**
     * The lineage name as used in storage keys: {@code *.example.com} becomes {@code _.example.com},
     * and the colons of an IPv6 address become {@code _} ({@code 2001:db8::7} is {@code 2001_db8__7}).
     */
    public String storageName() {
        return name.replace('*', '_').replace(':', '_');
    }
}
