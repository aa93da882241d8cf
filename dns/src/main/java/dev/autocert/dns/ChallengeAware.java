package dev.autocert.dns;

import dev.autocert.core.AutocertException;
import dev.autocert.core.ChallengeData;
import dev.autocert.core.DnsProvider.TxtRecord;

/**
 * A provider that needs the challenge behind a record, not only its name and value: the exec
 * provider, whose lego {@code RAW} mode and Certbot hook contract pass on the domain, token and
 * key authorization. {@link Dns01Solver} calls these instead of the plain {@code DnsProvider}
 * methods when a provider implements this.
 */
interface ChallengeAware {

    void present(TxtRecord record, ChallengeData challenge) throws AutocertException;

    void cleanUp(TxtRecord record, ChallengeData challenge) throws AutocertException;
}
