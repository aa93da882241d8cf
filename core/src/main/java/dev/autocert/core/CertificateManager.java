package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.RenewalInfo;
import org.shredzone.acme4j.connector.Resource;
import org.shredzone.acme4j.exception.AcmeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine: keeps every configured certificate issued, stored and current, and tells its
 * listeners. Thread-safe.
 *
 * <p>{@link #start()} loads storage and publishes what it finds before touching the network: a
 * stored, valid certificate serves at once; a name without one gets a self-signed placeholder.
 * Then one daemon thread, {@code autocert-renewal}, orders what is missing and renews what is
 * due ({@link RenewalPolicy}), retrying failures on the {@link RetrySchedule}. Before ordering it
 * takes the certificate's storage lock and re-reads storage, so processes sharing storage order
 * each certificate once. A failed order never touches the working certificate.
 *
 * <pre>{@code
 * CertificateManager manager = CertificateManager.builder(settings)
 *         .listener(event -> installer.install(event.certificates()))
 *         .build();
 * manager.start();
 * }</pre>
 */
public final class CertificateManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CertificateManager.class);

    /** How long a certificate lock outlives a holder that died. */
    private static final Duration LOCK_LEASE = Duration.ofMinutes(2);
    /** How soon to look again when another process holds a certificate's lock. */
    private static final Duration LOCK_BUSY_RETRY = Duration.ofSeconds(2);
    /** How often to re-check ARI when the CA gives no Retry-After; Let's Encrypt asks for at least twice a day. */
    private static final Duration ARI_DEFAULT_INTERVAL = Duration.ofHours(6);
    /** The longest the scheduler sleeps before re-deciding, so clock jumps and long suspends are caught. */
    private static final Duration MAX_SLEEP = Duration.ofHours(12);

    private final AutocertSettings settings;
    private final Storage storage;
    private final Http01Tokens tokens;
    private final RetrySchedule retrySchedule;
    private final Clock clock;
    private final List<CertificateListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, State> states = new LinkedHashMap<>();
    private final Lineages lineages;
    private final Accounts accounts;
    private final AcmeSessions sessions;
    private final OrderFlow orderFlow;
    private final Random random = new Random();
    private final ScheduledExecutorService scheduler;

    private enum Phase { NEW, STARTED, STOPPED }

    private volatile Phase phase = Phase.NEW;
    /** Whether {@link #load()} ran; guarded by {@code this}. */
    private boolean loaded;
    /** The logged-in account; touched on the scheduler thread only. Dropped after any failure. */
    private Login login;

    private CertificateManager(Builder builder) {
        this.settings = builder.settings;
        this.storage = builder.storage != null ? builder.storage
                : new FileStorage(settings.storage().orElse(defaultStorageDirectory()));
        this.tokens = new Http01Tokens();
        this.retrySchedule = builder.retrySchedule;
        this.clock = builder.clock;
        this.listeners.addAll(builder.listeners);
        Map<ChallengeType, ChallengeSolver> solvers = new EnumMap<>(ChallengeType.class);
        solvers.put(ChallengeType.HTTP_01, new Http01Solver(tokens));
        builder.solvers.forEach(s -> solvers.put(s.type(), s));
        this.lineages = new Lineages(storage);
        this.accounts = new Accounts(settings, storage);
        this.sessions = new AcmeSessions(settings);
        this.orderFlow = new OrderFlow(settings, solvers);
        for (ManagedCertificate certificate : settings.certificates()) {
            states.put(certificate.name(), new State(certificate));
        }
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread thread = new Thread(r, "autocert-renewal");
            thread.setDaemon(true);
            return thread;
        });
        // At stop, renewals scheduled for later are dropped, not waited for.
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.setRemoveOnCancelPolicy(true);
        this.scheduler = executor;
    }

    /** A builder for an engine with {@code settings}. */
    public static Builder builder(AutocertSettings settings) {
        return new Builder(settings);
    }

    /** The storage directory used when neither {@code autocert.storage} nor an adapter names one. */
    static Path defaultStorageDirectory() {
        return Path.of(System.getProperty("user.home"), ".autocert");
    }

    /** The settings this engine runs with. */
    public AutocertSettings settings() {
        return settings;
    }

    /** The store this engine keeps its accounts and certificates in. */
    public Storage storage() {
        return storage;
    }

    /** The HTTP-01 challenges being validated now, for the server's challenge handler. */
    public Http01Tokens http01Tokens() {
        return tokens;
    }

    /**
     * Adds a listener; it hears of events from now on. A listener added before {@link #start()}
     * also hears of the certificates loaded or made at start-up.
     */
    public void addListener(CertificateListener listener) {
        listeners.add(requireNonNull(listener, "listener"));
    }

    /** Every certificate served now, real or placeholder, in the configured order; empty before start. */
    public List<CertifiedKey> certificates() {
        List<CertifiedKey> result = new ArrayList<>();
        for (State state : states.values()) {
            if (state.current != null) {
                result.add(state.current);
            }
        }
        return List.copyOf(result);
    }

    /** The certificate served now for the managed certificate {@code name}. */
    public Optional<CertifiedKey> certificate(String name) {
        State state = states.get(name);
        return state == null ? Optional.empty() : Optional.ofNullable(state.current);
    }

    /**
     * Publishes what start-up serves, on this thread and without touching the network: each
     * stored, valid certificate, or a placeholder for a name without one. {@link #start()} does
     * this first unless it was done; an adapter whose server needs its certificates before it
     * binds, but answers challenges only once it runs, calls this early and {@code start()} later,
     * so that no order begins before the server can answer. Idempotent.
     *
     * @throws IllegalStateException after {@link #stop()}
     */
    public void load() {
        synchronized (this) {
            if (phase == Phase.STOPPED) {
                throw new IllegalStateException("The CertificateManager is stopped");
            }
            if (loaded) {
                return;
            }
            loaded = true;
        }
        Instant now = clock.instant();
        for (State state : states.values()) {
            Optional<Lineages.Stored> stored = lineages.load(state.certificate);
            if (stored.isPresent() && stored.get().fits(state.certificate, settings.ca(), settings.keyType(), now)) {
                state.current = stored.get().key();
                state.ari = stored.get().meta().ari();
                publish(CertificateEvent.Type.LOADED, state, null, null);
                state.firstReal.complete(state.current);
            } else {
                state.current = Placeholders.create(state.certificate);
                publish(CertificateEvent.Type.PLACEHOLDER, state, null, null);
            }
        }
    }

    /**
     * Starts the engine: publishes stored certificates and placeholders, on this thread, unless
     * {@link #load()} did, then orders and renews in the background. With {@code
     * autocert.startup-wait} set, returns only once every certificate is real.
     *
     * @throws AutocertException when {@code startup-wait} passed without every certificate issued
     * @throws IllegalStateException when started twice or after {@link #stop()}
     */
    public void start() throws AutocertException {
        synchronized (this) {
            if (phase != Phase.NEW) {
                throw new IllegalStateException("A CertificateManager starts once; this one is " + phase);
            }
            phase = Phase.STARTED;
        }
        load();
        for (State state : states.values()) {
            scheduler.execute(() -> maintain(state, false));
        }
        if (!settings.startupWait().isZero()) {
            awaitCertificates(settings.startupWait());
        }
    }

    private void awaitCertificates(Duration wait) throws AutocertException {
        CompletableFuture<?>[] all = states.values().stream().map(s -> s.firstReal).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(all).get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            List<String> missing = states.values().stream().filter(s -> !s.firstReal.isDone()).map(s -> s.certificate.name()).toList();
            throw AutocertException.noRetry("No certificate for " + missing + " within " + AutocertSettings.PREFIX
                    + AutocertSettings.STARTUP_WAIT + "=" + wait + "; see the log for why, or set it to 0 to start with a placeholder");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AutocertException("Interrupted while waiting for certificates", e);
        }
    }

    /** Whether {@link #start()} has been called (and {@link #stop()} not yet). */
    public boolean isStarted() {
        return phase == Phase.STARTED;
    }

    /**
     * Orders a new version of {@code name} now, whether or not it is due (as {@code certbot renew
     * --force-renewal} does). The future completes with the new certificate, or exceptionally
     * with the {@link AutocertException} that stopped it.
     */
    public CompletableFuture<CertifiedKey> renew(String name) {
        State state = states.get(name);
        if (state == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("No managed certificate named " + name
                    + "; managed: " + states.keySet()));
        }
        if (phase != Phase.STARTED) {
            return CompletableFuture.failedFuture(new IllegalStateException("The CertificateManager is " + phase));
        }
        CompletableFuture<CertifiedKey> result = new CompletableFuture<>();
        scheduler.execute(() -> {
            Optional<AutocertException> failure = maintain(state, true);
            if (failure.isPresent()) {
                result.completeExceptionally(failure.get());
            } else {
                result.complete(state.current);
            }
        });
        return result;
    }

    /**
     * Stops the engine: no new orders start, and one under way is abandoned at its next step.
     * Storage is never left half-written (every write is atomic). Idempotent.
     */
    public void stop() {
        synchronized (this) {
            if (phase == Phase.STOPPED) {
                return;
            }
            phase = Phase.STOPPED;
        }
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(2, TimeUnit.SECONDS)) {
                scheduler.shutdownNow(); // interrupts an order's polling; a storage write is atomic
                scheduler.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            scheduler.shutdownNow();
            Thread.currentThread().interrupt();
        }
        LOG.debug("Certificate manager stopped");
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /**
     * One look at one certificate, on the scheduler thread: adopt a newer stored version, decide
     * whether it is due, order if it is (or if forced), and schedule the next look.
     *
     * @return the failure, if this look failed
     */
    private Optional<AutocertException> maintain(State state, boolean force) {
        if (phase != Phase.STARTED) {
            return Optional.of(new AutocertException("The CertificateManager is stopped"));
        }
        String name = state.certificate.name();
        try {
            Optional<Storage.Lock> lock = storage.tryLock("certificate-" + state.certificate.storageName(), LOCK_LEASE);
            if (lock.isEmpty()) {
                LOG.debug("Another process holds the lock of {}; looking again in {}", name, LOCK_BUSY_RETRY);
                schedule(state, clock.instant().plus(LOCK_BUSY_RETRY).plusMillis(random.nextInt(1000)));
                return force ? Optional.of(new AutocertException("Another process is ordering " + name + " now")) : Optional.empty();
            }
            try (Storage.Lock held = lock.get()) {
                adoptStored(state);
                CertifiedKey current = state.current;
                if (!current.placeholder() && !force) {
                    RenewalPolicy.Decision decision = decide(state, current);
                    if (!decision.isDue(clock.instant())) {
                        schedule(state, earliest(decision.due(), state.ari ? state.ariNextCheck : null));
                        return Optional.empty();
                    }
                    LOG.debug("{} is due for renewal ({}, due {})", name, decision.reason(), decision.due());
                }
                order(state, current);
            }
            state.failures = 0;
            schedule(state, decide(state, state.current).due());
            return Optional.empty();
        } catch (AutocertException e) {
            return Optional.of(failed(state, e));
        } catch (IOException e) {
            return Optional.of(failed(state, new AutocertException("Storage " + storage + " failed: " + e.getMessage(), e)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of(new AutocertException("Interrupted: the CertificateManager is stopping", e));
        } catch (RuntimeException e) {
            // acme4j reports some protocol and lazy-loading failures unchecked
            return Optional.of(failed(state, new AutocertException("Unexpected failure for " + name + ": " + e, e)));
        }
    }

    /** Serves a newer stored version if another process (or an operator) stored one. */
    private void adoptStored(State state) {
        Optional<Lineages.Stored> stored = lineages.load(state.certificate);
        CertifiedKey current = state.current;
        if (stored.isPresent() && stored.get().fits(state.certificate, settings.ca(), settings.keyType(), clock.instant())
                && (current.placeholder() || stored.get().key().version() != current.version()
                        && stored.get().key().notAfter().isAfter(current.notAfter()))) {
            state.current = stored.get().key();
            state.ari = stored.get().meta().ari();
            state.ariChoice = null;
            publish(CertificateEvent.Type.LOADED, state, null, null);
            state.firstReal.complete(state.current); // after listeners installed it: start-up may wait on this
        }
    }

    private void order(State state, CertifiedKey current) throws AutocertException, IOException, InterruptedException {
        ManagedCertificate certificate = state.certificate;
        Login login = login();
        CertifiedKey issued = orderFlow.order(login, certificate,
                current.placeholder() ? Optional.empty() : Optional.of(current));
        boolean ari;
        try {
            ari = login.getSession().resourceUrlOptional(Resource.RENEWAL_INFO).isPresent();
        } catch (AcmeException e) {
            ari = false; // the directory was read moments ago; if it cannot be now, assume no ARI
        }
        CertifiedKey stored = lineages.store(certificate, issued, settings.ca(), settings.keyType(), ari);
        boolean renewal = !current.placeholder();
        state.current = stored;
        state.ari = ari;
        state.ariChoice = null;
        publish(renewal ? CertificateEvent.Type.RENEWED : CertificateEvent.Type.OBTAINED, state, null, null);
        state.firstReal.complete(stored); // after listeners installed it: start-up may wait on this
    }

    private Login login() throws AutocertException {
        if (login == null) {
            try {
                login = accounts.login(sessions.open());
            } catch (RuntimeException e) {
                throw new AutocertException("Cannot reach the CA at " + settings.ca() + ": " + e.getMessage(), e);
            }
        }
        return login;
    }

    /** The renewal decision for {@code current}, asking the CA's ARI when it offers it and it is time to. */
    private RenewalPolicy.Decision decide(State state, CertifiedKey current) {
        Instant now = clock.instant();
        if (state.ari && (state.ariNextCheck == null || !now.isBefore(state.ariNextCheck))) {
            try {
                RenewalInfo info = login().bindRenewalInfo(current.certificate());
                Optional<Instant> retryAfter = info.fetch();
                RenewalPolicy.AriWindow window = new RenewalPolicy.AriWindow(info.getSuggestedWindowStart(), info.getSuggestedWindowEnd());
                if (!window.equals(state.ariWindow) || state.ariChoice == null) {
                    state.ariWindow = window;
                    state.ariChoice = window.pick(random);
                    LOG.debug("ARI window for {} is {} to {}; renewing at {}", current.name(), window.start(), window.end(), state.ariChoice);
                }
                state.ariNextCheck = retryAfter.filter(t -> t.isAfter(now)).orElse(now.plus(ARI_DEFAULT_INTERVAL));
            } catch (AcmeException | AutocertException | RuntimeException e) {
                login = null;
                state.ariNextCheck = now.plus(Duration.ofHours(1));
                LOG.debug("ARI check for {} failed, using the last answer or the lifetime rule: {}", current.name(), e.toString());
            }
        }
        return RenewalPolicy.decide(current.notBefore(), current.notAfter(), Optional.ofNullable(state.ariChoice));
    }

    private AutocertException failed(State state, AutocertException cause) {
        login = null; // a failure may be the account's; logging in again costs one request
        state.failures++;
        Instant now = clock.instant();
        Instant next = retrySchedule.next(state.failures, cause.retryable(), cause.retryAfter(), now, random);
        CertifiedKey current = state.current;
        if (!current.placeholder()) {
            // never retry past the emergency point when that comes sooner
            Instant emergency = RenewalPolicy.emergencyDue(current.notBefore(), current.notAfter());
            if (emergency.isAfter(now) && emergency.isBefore(next) && cause.retryAfter().map(emergency::isAfter).orElse(true)) {
                next = emergency;
            }
        }
        schedule(state, next);
        publish(CertificateEvent.Type.FAILED, state, cause, next);
        if (!current.placeholder() && RenewalPolicy.isExpiring(current.notBefore(), current.notAfter(), now)) {
            publish(CertificateEvent.Type.EXPIRING, state, cause, next);
        }
        return cause;
    }

    private void schedule(State state, Instant at) {
        if (phase != Phase.STARTED) {
            return;
        }
        Instant now = clock.instant();
        Instant capped = earliest(at, now.plus(MAX_SLEEP));
        long delay = Math.max(0, Duration.between(now, capped).toMillis());
        if (state.next != null) {
            state.next.cancel(false);
        }
        try {
            state.next = scheduler.schedule(() -> maintain(state, false), delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping
        }
    }

    private static Instant earliest(Instant a, Instant b) {
        return b == null || a.isBefore(b) ? a : b;
    }

    private void publish(CertificateEvent.Type type, State state, AutocertException cause, Instant next) {
        CertifiedKey current = state.current;
        String name = state.certificate.name();
        switch (type) {
            case LOADED -> LOG.info("Certificate {} loaded from storage (version {}), valid until {}", name, current.version(), current.notAfter());
            case PLACEHOLDER -> LOG.info("Certificate {} not in storage yet; serving a self-signed placeholder until it is issued", name);
            case OBTAINED -> LOG.info("Certificate {} obtained from {} for {}, valid until {}", name, settings.ca(), current.names(), current.notAfter());
            case RENEWED -> LOG.info("Certificate {} renewed (version {}), valid until {}", name, current.version(), current.notAfter());
            case FAILED -> LOG.warn("{} {} failed (attempt {}), next try at {}: {}", current.placeholder() ? "Obtaining" : "Renewing",
                    name, state.failures, next, cause.getMessage());
            case EXPIRING -> LOG.error("Certificate {} expires at {} and renewal keeps failing: {}", name, current.notAfter(), cause.getMessage());
        }
        if (cause != null && LOG.isDebugEnabled()) {
            LOG.debug("Failure details for {}", name, cause);
        }
        CertificateEvent event = new CertificateEvent(type, name, current, certificates(), Optional.ofNullable(cause),
                state.failures, Optional.ofNullable(next), clock.instant());
        for (CertificateListener listener : listeners) {
            try {
                listener.onEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("Certificate listener {} failed on {} of {}", listener, type, name, e);
            }
        }
    }

    /** What the engine knows of one managed certificate. Fields other than volatile ones are scheduler-thread only. */
    private static final class State {
        final ManagedCertificate certificate;
        final CompletableFuture<CertifiedKey> firstReal = new CompletableFuture<>();
        volatile CertifiedKey current;
        volatile int failures;
        boolean ari;
        RenewalPolicy.AriWindow ariWindow;
        Instant ariChoice;
        Instant ariNextCheck;
        ScheduledFuture<?> next;

        State(ManagedCertificate certificate) {
            this.certificate = certificate;
        }
    }

    /** Collects what an engine needs besides its settings. Not thread-safe. */
    public static final class Builder {
        private final AutocertSettings settings;
        private Storage storage;
        private final List<CertificateListener> listeners = new ArrayList<>();
        private final List<ChallengeSolver> solvers = new ArrayList<>();
        private RetrySchedule retrySchedule = RetrySchedule.defaults();
        private Clock clock = Clock.systemUTC();

        private Builder(AutocertSettings settings) {
            this.settings = requireNonNull(settings, "settings");
        }

        /**
         * Sets the store; by default a {@link FileStorage} in {@code autocert.storage}, or in
         * {@code ~/.autocert} when that is not set.
         */
        public Builder storage(Storage storage) {
            this.storage = requireNonNull(storage, "storage");
            return this;
        }

        /** Adds a listener, which also hears of the certificates published at start-up. */
        public Builder listener(CertificateListener listener) {
            listeners.add(requireNonNull(listener, "listener"));
            return this;
        }

        /** Adds a challenge solver, for example for dns-01; it replaces the built-in one of its type. */
        public Builder solver(ChallengeSolver solver) {
            solvers.add(requireNonNull(solver, "solver"));
            return this;
        }

        /** Sets the retry ladder for failed orders; {@link RetrySchedule#defaults()} unless set. */
        public Builder retrySchedule(RetrySchedule retrySchedule) {
            this.retrySchedule = requireNonNull(retrySchedule, "retrySchedule");
            return this;
        }

        Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /** Builds the engine; {@link CertificateManager#start()} starts it. */
        public CertificateManager build() {
            return new CertificateManager(this);
        }
    }
}
