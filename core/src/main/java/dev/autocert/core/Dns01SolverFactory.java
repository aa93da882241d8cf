package dev.autocert.core;

/**
 * Makes the DNS-01 {@link ChallengeSolver}: implemented by the {@code autocert-dns} module and
 * found with {@link java.util.ServiceLoader} when {@code autocert.challenges} includes {@code
 * dns-01}, so every surface gets DNS-01 by adding that module to its class path.
 */
public interface Dns01SolverFactory {

    /**
     * The solver for {@code settings}.
     *
     * @param provider the provider given to {@code CertificateManager.Builder.dnsProvider}, or
     *                 null to use the one {@code autocert.dns-provider} names
     * @throws InvalidSettingException when no provider is named, the name is unknown, or its
     *         credentials are missing or unsafe
     */
    ChallengeSolver create(AutocertSettings settings, DnsProvider provider);
}
