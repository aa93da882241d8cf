package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * Publishes and removes the TXT records of DNS-01 challenges at one DNS operator: a name server
 * that takes RFC 2136 updates, a hosted DNS API, a user's script. The {@code autocert-dns}
 * module brings the providers named by {@code autocert.dns-provider}, checks propagation, and
 * reads their credentials; a provider of one's own is given to {@code
 * CertificateManager.Builder.dnsProvider}.
 *
 * <p>What every implementation guarantees:
 * <ul>
 *   <li><b>One value among several.</b> {@link #present} adds its value to the TXT records at
 *       the name and keeps every other value there; {@link #cleanUp} removes its own value and
 *       nothing else. A wildcard and its apex ({@code *.example.com} and {@code example.com})
 *       are validated through the same name, {@code _acme-challenge.example.com}, with two
 *       values at once; replacing or deleting the whole record set there fails the other one.</li>
 *   <li><b>Idempotent.</b> Presenting a value that is already there, or cleaning up one that is
 *       gone, succeeds and changes nothing; the engine may retry either after a failure.</li>
 *   <li><b>Safe for concurrent use.</b> Several threads may present and clean up at once, also at
 *       the same name; a provider whose API rewrites a whole record set (read, modify, write)
 *       serialises its own changes to a name and uses the API's conditional writes where it has
 *       them, so two changes never lose one another.</li>
 *   <li><b>No secrets in failures.</b> An {@link AutocertException} names the provider, the
 *       record and what the operator's API or server answered; never a token, key or
 *       password.</li>
 *   <li>Returning from {@link #present} means the operator accepted the record, not that it is
 *       visible everywhere: the engine checks propagation itself.</li>
 * </ul>
 */
public interface DnsProvider {

    /**
     * Adds {@code record}'s value to the TXT records at its name, keeping the others.
     *
     * @throws AutocertException when the operator refused it or could not be reached
     */
    void present(TxtRecord record) throws AutocertException;

    /**
     * Removes {@code record}'s value from the TXT records at its name, keeping the others.
     *
     * @throws AutocertException when the operator refused it or could not be reached
     */
    void cleanUp(TxtRecord record) throws AutocertException;

    /**
     * One TXT value of a challenge.
     *
     * @param name  the absolute record name, lower case, with the final dot: {@code
     *              _acme-challenge.example.com.}, or the name a CNAME there points to
     * @param value the value, without quotes (43 base64url characters for DNS-01)
     * @param ttl   the time to live to give the record, in seconds
     */
    record TxtRecord(String name, String value, int ttl) {

        public TxtRecord {
            requireNonNull(name, "name");
            requireNonNull(value, "value");
            name = name.toLowerCase(Locale.ROOT);
            if (!name.endsWith(".")) {
                name = name + ".";
            }
            if (ttl < 1) {
                throw new IllegalArgumentException("ttl must be positive: " + ttl);
            }
        }

        /** {@return the name without its final dot} */
        public String relativeName() {
            return name.substring(0, name.length() - 1);
        }
    }
}
