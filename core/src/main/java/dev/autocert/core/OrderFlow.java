package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.shredzone.acme4j.Authorization;
import java.net.URI;
import org.shredzone.acme4j.Certificate;
import org.shredzone.acme4j.Identifier;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.OrderBuilder;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.challenge.TokenChallenge;
import org.shredzone.acme4j.connector.Resource;
import org.shredzone.acme4j.exception.AcmeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One certificate order from start to chain (RFC 8555 section 7.4): the only class that walks
 * acme4j's order, authorization and challenge objects.
 *
 * <p>Polling honours the CA's {@code Retry-After} on authorizations and orders; without one it
 * polls quickly at first (25 ms, doubling up to 3 s), since most validations finish within a
 * second. A renewal names the certificate it replaces (RFC 9773 {@code replaces}) when the CA
 * offers ARI; a CA that refuses that is asked once more without it.
 */
final class OrderFlow {

    private static final Logger LOG = LoggerFactory.getLogger(OrderFlow.class);

    /** First poll delay without a Retry-After, doubled each poll up to {@link #MAX_POLL}. */
    private static final Duration FIRST_POLL = Duration.ofMillis(25);
    private static final Duration MAX_POLL = Duration.ofSeconds(3);
    /** How long a validation or finalization may take before the order is abandoned. */
    private static final Duration POLL_TIMEOUT = Duration.ofMinutes(3);

    private final AutocertSettings settings;
    private final Map<ChallengeType, ChallengeSolver> solvers;

    OrderFlow(AutocertSettings settings, Map<ChallengeType, ChallengeSolver> solvers) {
        this.settings = requireNonNull(settings, "settings");
        this.solvers = Map.copyOf(solvers);
    }

    /** What an order produced: the key, and the profile it asked for, if any. */
    record Issued(CertifiedKey key, Optional<String> profile) {
    }

    /**
     * Orders a certificate for {@code certificate}'s identifiers with a fresh key.
     *
     * @param replacing the certificate this one renews, named in the order when the CA offers ARI
     */
    Issued order(Login login, ManagedCertificate certificate, Optional<CertifiedKey> replacing)
            throws AutocertException, InterruptedException {
        String name = certificate.name();
        URI ca = login.getSession().getServerUri();
        try {
            Optional<String> profile = profile(login.getSession());
            Order order = create(login, certificate, replacing, profile);
            authorize(order.getAuthorizations());
            Status ready = poll(order, EnumSet.of(Status.READY, Status.VALID, Status.INVALID));
            if (ready == Status.INVALID) {
                throw new AutocertException("The CA marked the order for " + name + " invalid"
                        + order.getError().map(AcmeFailures::detail).orElse(""));
            }
            KeyPair keyPair = settings.keyType().generate();
            if (ready == Status.READY) {
                order.execute(keyPair);
            }
            if (poll(order, EnumSet.of(Status.VALID, Status.INVALID)) != Status.VALID) {
                throw new AutocertException("The CA did not issue the certificate for " + name
                        + order.getError().map(AcmeFailures::detail).orElse(""));
            }
            Certificate issued = chooseChain(order.getCertificate());
            List<X509Certificate> chain = issued.getCertificateChain();
            CertifiedKey key = CertifiedKey.of(name, keyPair.getPrivate(), chain);
            if (!key.covers(certificate.domains())) {
                throw new AutocertException("The CA issued a certificate for " + key.names()
                        + " but " + certificate.domains() + " were ordered");
            }
            return new Issued(key, profile);
        } catch (AcmeException e) {
            throw AcmeFailures.translate("Order for " + name + " at " + ca + " failed", ca, e);
        }
    }

    /**
     * The profile to ask {@code session}'s CA for: {@code autocert.profile} when it offers it;
     * otherwise none, with a WARN, or a failure when {@code autocert.profile-required} is set.
     */
    private Optional<String> profile(Session session) throws AcmeException, AutocertException {
        if (settings.profile().isEmpty()) {
            return Optional.empty();
        }
        String profile = settings.profile().get();
        var metadata = session.getMetadata();
        if (metadata.isProfileAllowed(profile)) {
            return Optional.of(profile);
        }
        Set<String> offered = metadata.getProfiles();
        String offers = "the CA " + session.getServerUri() + (offered.isEmpty() ? " offers no profiles"
                : " offers " + String.join(", ", offered) + " but not '" + profile + "'");
        if (settings.profileRequired()) {
            throw AutocertException.noRetry(AutocertSettings.PREFIX + AutocertSettings.PROFILE + ": " + offers + " and "
                    + AutocertSettings.PREFIX + AutocertSettings.PROFILE_REQUIRED + " is true; name a profile it offers, "
                    + "or set " + AutocertSettings.PREFIX + AutocertSettings.PROFILE_REQUIRED + "=false to accept its default");
        }
        LOG.warn("{}={}: {}; ordering its default profile", AutocertSettings.PREFIX + AutocertSettings.PROFILE, profile, offers);
        return Optional.empty();
    }

    private Order create(Login login, ManagedCertificate certificate, Optional<CertifiedKey> replacing, Optional<String> profile)
            throws AcmeException {
        var session = login.getSession();
        List<Identifier> identifiers = certificate.domains().stream()
                .map(id -> DomainNames.isIp(id) ? Identifier.ip(id) : Identifier.dns(id))
                .toList();
        boolean replaces = replacing.isPresent() && !replacing.get().placeholder()
                && session.resourceUrlOptional(Resource.RENEWAL_INFO).isPresent();
        if (replaces) {
            try {
                return create(login, identifiers, profile, Optional.of(replacing.get().certificate()));
            } catch (AcmeRateLimitedException e) {
                throw e;
            } catch (AcmeServerException e) {
                // RFC 9773 section 5: a CA may refuse the replacement (already replaced, another
                // account's certificate); the order itself is still wanted.
                LOG.info("The CA refused to record that the new {} certificate replaces serial {} ({}{}); ordering it without",
                        certificate.name(), replacing.get().serial(), AcmeFailures.type(e), AcmeFailures.detail(e.getProblem()));
            }
        }
        return create(login, identifiers, profile, Optional.empty());
    }

    private static Order create(Login login, List<Identifier> identifiers, Optional<String> profile,
            Optional<X509Certificate> replaces) throws AcmeException {
        OrderBuilder builder = login.newOrder().identifiers(identifiers);
        profile.ifPresent(builder::profile);
        replaces.ifPresent(builder::replaces);
        Order order = builder.create();
        LOG.debug("Order {} for {} created{}: {}", order.getLocation(), identifiers,
                replaces.map(r -> " replacing " + r.getSerialNumber().toString(16)).orElse(""), order.getStatus());
        return order;
    }

    /** A pending authorization, the challenge chosen for it, and what its solver was given. */
    private record Pending(Authorization authorization, Challenge challenge, ChallengeSolver solver, ChallengeData data) {
    }

    /**
     * Validates every pending authorization of an order: presents all their challenges first,
     * waits until each is visible, then asks the CA to validate them and polls each. A wildcard
     * and its apex thus share one DNS propagation wait, with both TXT values published at once.
     * Everything presented is cleaned up, whatever the outcome.
     */
    private void authorize(List<Authorization> authorizations) throws AcmeException, AutocertException, InterruptedException {
        List<Pending> chosen = new ArrayList<>();
        for (Authorization authorization : authorizations) {
            choose(authorization).ifPresent(chosen::add);
        }
        // What Certbot's hooks are told: every name of the order, and how many come after each
        List<String> domains = chosen.stream().map(p -> p.data.domain()).toList();
        List<Pending> pending = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            Pending p = chosen.get(i);
            ChallengeData d = p.data;
            pending.add(new Pending(p.authorization, p.challenge, p.solver,
                    new ChallengeData(d.type(), d.domain(), d.token(), d.keyAuthorization(), domains, chosen.size() - 1 - i)));
        }
        List<Pending> presented = new ArrayList<>();
        try {
            for (Pending p : pending) {
                LOG.debug("Presenting {}", p.data);
                presented.add(p);
                p.solver.present(p.data);
            }
            for (Pending p : pending) {
                p.solver.awaitVisible(p.data);
            }
            for (Pending p : pending) {
                p.challenge.trigger();
            }
            for (Pending p : pending) {
                // RFC 8555 section 7.5.1: poll the authorization; it carries the CA's Retry-After.
                Status status = poll(p.authorization, EnumSet.of(Status.VALID, Status.INVALID, Status.DEACTIVATED,
                        Status.EXPIRED, Status.REVOKED));
                if (status != Status.VALID) {
                    p.challenge.fetch();
                    String why = p.challenge.getError().map(OrderFlow::describe).orElse("no reason given");
                    throw new AutocertException("The CA could not validate " + p.data + ": " + why + hint(p.data));
                }
                LOG.debug("{} is valid", p.data);
            }
        } finally {
            // An interrupt (a shutdown) must not leave the records behind: with the flag set, every
            // HTTP call, sleep and hook of a clean-up would fail at once. It is set again afterwards.
            boolean interrupted = Thread.interrupted();
            try {
                for (Pending p : presented) {
                    try {
                        p.solver.cleanUp(p.data);
                    } catch (AutocertException | RuntimeException e) {
                        LOG.warn("Cleaning up {} failed: {}", p.data, e.getMessage());
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** The challenge to answer for {@code authorization}, in the order of {@code autocert.challenges}; empty when it is valid already. */
    private Optional<Pending> choose(Authorization authorization) throws AutocertException {
        String domain = authorization.getIdentifier().getValue();
        if (authorization.getStatus() == Status.VALID) {
            LOG.debug("Authorization for {} is still valid; no challenge needed", domain);
            return Optional.empty();
        }
        if (authorization.getStatus() != Status.PENDING) {
            throw new AutocertException("Authorization for " + domain + " is " + authorization.getStatus());
        }
        for (ChallengeType type : settings.challenges()) {
            Optional<Challenge> offered = authorization.findChallenge(type.id());
            if (offered.isPresent() && solvers.containsKey(type)) {
                ChallengeSolver solver = solvers.get(type);
                TokenChallenge challenge = (TokenChallenge) offered.get();
                ChallengeData data = new ChallengeData(solver.type(), domain, challenge.getJSON().get("token").asString(),
                        challenge.getAuthorization());
                return Optional.of(new Pending(authorization, challenge, solver, data));
            }
        }
        List<String> offered = new ArrayList<>();
        authorization.getChallenges().forEach(c -> offered.add(c.getType()));
        throw AutocertException.noRetry("No usable challenge for " + domain + ": the CA offers " + offered
                + ", " + AutocertSettings.PREFIX + AutocertSettings.CHALLENGES + " allows " + settings.challenges()
                + (settings.challenges().contains(ChallengeType.DNS_01) && !solvers.containsKey(ChallengeType.DNS_01)
                ? ", and no dns-01 solver was given to the CertificateManager" : ""));
    }

    /** Where the CA looked, for a failed validation's message. */
    private static String hint(ChallengeData data) {
        String host = data.domain().contains(":") ? "[" + data.domain() + "]" : data.domain();
        return switch (data.type()) {
            case HTTP_01 -> "; check that http://" + host + Http01Tokens.PATH_PREFIX + " reaches this server on port 80";
            case TLS_ALPN_01 -> "; check that " + host + " port 443 reaches this server's HTTPS connector, with TLS 1.3 enabled";
            case DNS_01 -> "; check that the TXT record " + data.dnsRecordName() + " is visible to the CA's resolvers";
        };
    }

    private static String describe(Problem problem) {
        return problem.getDetail().orElse(problem.getType().toString());
    }

    /** Picks the alternate chain whose top issuer is {@code preferred-chain}, as Certbot does; else the default. */
    private Certificate chooseChain(Certificate certificate) throws AcmeException {
        certificate.download();
        if (settings.preferredChain().isEmpty()) {
            return certificate;
        }
        String wanted = settings.preferredChain().get();
        Optional<Certificate> match = certificate.findCertificate(wanted);
        if (match.isEmpty()) {
            LOG.info("No chain issued by '{}' among the CA's chains; using the default one", wanted);
            return certificate;
        }
        return match.get();
    }

    /** Polls until {@code resource} reaches one of {@code wanted}, honouring Retry-After. */
    private static Status poll(org.shredzone.acme4j.AcmeJsonResource resource, Set<Status> wanted)
            throws AcmeException, InterruptedException, AutocertException {
        Instant deadline = Instant.now().plus(POLL_TIMEOUT);
        Duration backoff = FIRST_POLL;
        Status status = statusOf(resource);
        while (!wanted.contains(status)) {
            Instant now = Instant.now();
            if (now.isAfter(deadline)) {
                throw new AutocertException("The CA did not finish within " + POLL_TIMEOUT + "; status " + status);
            }
            Duration wait = resource.getRetryAfter()
                    .map(at -> Duration.between(now, at))
                    .filter(d -> !d.isNegative())
                    .orElse(backoff);
            Thread.sleep(Math.min(wait.toMillis(), Duration.between(now, deadline).toMillis() + 1));
            backoff = backoff.multipliedBy(2).compareTo(MAX_POLL) > 0 ? MAX_POLL : backoff.multipliedBy(2);
            resource.fetch();
            status = statusOf(resource);
        }
        return status;
    }

    private static Status statusOf(org.shredzone.acme4j.AcmeJsonResource resource) {
        if (resource instanceof Order order) {
            return order.getStatus();
        }
        if (resource instanceof Authorization authorization) {
            return authorization.getStatus();
        }
        return ((Challenge) resource).getStatus();
    }
}
