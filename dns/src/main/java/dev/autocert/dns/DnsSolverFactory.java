package dev.autocert.dns;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.ChallengeSolver;
import dev.autocert.core.Dns01SolverFactory;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsSettings;
import dev.autocert.core.InvalidSettingException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/**
 * The DNS-01 solver for {@code autocert.dns-*}: the named provider's factory, its credentials
 * read from {@code autocert.dns-credentials} and the environment for each order, and the
 * propagation check. Found by core through {@link java.util.ServiceLoader}.
 */
public final class DnsSolverFactory implements Dns01SolverFactory {

    private static final String PROVIDER = AutocertSettings.PREFIX + "dns-provider";

    /** For the service loader. */
    public DnsSolverFactory() {
    }

    @Override
    public ChallengeSolver create(AutocertSettings settings, DnsProvider provider) {
        return create(settings, provider, System.getenv(), 53);
    }

    /** As {@link #create(AutocertSettings, DnsProvider)}, with an environment and name server port of one's own (tests). */
    static ChallengeSolver create(AutocertSettings settings, DnsProvider provider, Map<String, String> environment, int nameserverPort) {
        DnsSettings dns = settings.dns();
        Propagation propagation = new Propagation(dns.resolvers(), dns.propagationCheck(), nameserverPort);
        if (provider == null && dns.provider().isEmpty() && settings.manualAuthHook().isPresent()) {
            // Certbot's --manual with --preferred-challenges dns: the operator's hooks publish the record
            ExecProvider hooks = ExecProvider.certbot(settings.manualAuthHook().get(), settings.manualCleanupHook().orElse(null),
                    ExecProvider.Factory.DEFAULT_TIMEOUT, List.of());
            return new Dns01Solver("the manual hooks", () -> hooks, propagation, dns.propagationTimeout().orElse(Duration.ofSeconds(60)),
                    dns.pollingInterval().orElse(Duration.ofSeconds(2)), dns.ttl().orElse(120));
        }
        if (provider != null) {
            return new Dns01Solver(provider.getClass().getSimpleName(), () -> provider, propagation,
                    dns.propagationTimeout().orElse(Duration.ofSeconds(60)), dns.pollingInterval().orElse(Duration.ofSeconds(2)),
                    dns.ttl().orElse(120));
        }
        String name = dns.provider().orElseThrow(() -> new InvalidSettingException(PROVIDER,
                "must name a DNS provider when " + AutocertSettings.PREFIX + "challenges includes dns-01 (one of " + String.join(", ", names())
                + "), or set " + AutocertSettings.PREFIX + "manual-auth-hook to publish the TXT records with a hook of your own"));
        DnsProviderFactory factory = find(name).orElseThrow(() -> new InvalidSettingException(PROVIDER,
                "'" + name + "' is not a DNS provider here; known: " + String.join(", ", names())
                + " (a provider of one's own is a jar registering dev.autocert.dns.DnsProviderFactory)"));
        Supplier<DnsCredentials> credentials = () -> DnsCredentials.read(name, dns.credentials().orElse(null), dns.credentialsStrict(),
                environment);
        DnsCredentials now = credentials.get(); // refuse missing or unsafe credentials at start-up, not at the first order
        factory.create(now);
        String prefix = factory.variablePrefix();
        Duration timeout = dns.propagationTimeout().or(() -> now.duration(prefix + "_PROPAGATION_TIMEOUT"))
                .orElse(factory.propagationTimeout());
        Duration interval = dns.pollingInterval().or(() -> now.duration(prefix + "_POLLING_INTERVAL")).orElse(factory.pollingInterval());
        int ttl = dns.ttl().isPresent() ? dns.ttl().getAsInt() : now.integer(null, prefix + "_TTL").orElse(factory.ttl());
        if (ttl < 1) { // refused here rather than at every order
            throw now.invalid(prefix + "_TTL", "is " + ttl + "; give the TXT records' TTL in seconds, at least 1, such as "
                    + factory.ttl());
        }
        return new Dns01Solver(name, () -> factory.create(credentials.get()), propagation, timeout, interval, ttl);
    }

    /** The factory named {@code name} on the class path. */
    static Optional<DnsProviderFactory> find(String name) {
        return factories().stream().filter(f -> f.name().equals(name)).findFirst();
    }

    /** {@return the names of every provider on the class path, sorted} */
    public static List<String> names() {
        return factories().stream().map(DnsProviderFactory::name).sorted().toList();
    }

    private static List<DnsProviderFactory> factories() {
        return ServiceLoader.load(DnsProviderFactory.class, DnsSolverFactory.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get).sorted(Comparator.comparing(DnsProviderFactory::name)).toList();
    }
}
