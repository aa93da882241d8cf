package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AcmeFailures.CaUnreachableException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.RenewalInfo;
import org.shredzone.acme4j.connector.Resource;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine: keeps every configured certificate issued, stored and current, and tells its
 * listeners. Thread-safe: every method may be called from any thread.
 *
 * <p>{@link #load()} (which {@link #start()} calls first) reads storage and publishes what it
 * finds before touching the network: a stored, valid certificate serves at once; a name without
 * one gets a self-signed placeholder. A stored certificate that no longer fits the settings (a
 * name added or removed, another key type or CA) keeps serving every name it still covers until
 * its replacement is issued; only the names it does not cover get a placeholder meanwhile.
 *
 * <p>Then one daemon thread, {@code autocert-renewal}, orders what is missing and renews what is
 * due ({@link RenewalPolicy}), retrying failures on the {@link RetrySchedule}, and every few
 * seconds installs a version another process stored. Before ordering it takes the
 * certificate's storage lock and re-reads storage, so processes sharing storage order each
 * certificate once. A failed order, or a storage read that fails, never touches the working
 * certificate. With several CAs in {@code autocert.ca}, an order goes to the next when one is
 * unreachable or keeps failing, and a later renewal tries the first again.
 *
 * <p>Listeners hear of events on their own thread, {@code autocert-events}; the engine waits a
 * few seconds for them to return, so a listener that blocks delays it but cannot deadlock it.
 * {@code autocert.deploy-hook}, when set, runs after each certificate the engine obtains or
 * renews, on a thread of its own that neither of them waits for. The engine can be stopped and
 * started again.
 *
 * <p>A certificate is <em>expiring</em> ({@link CertificateEvent.Type#EXPIRING}, {@link
 * CertificateStatus#expiring}) when renewal keeps failing with under a tenth of its lifetime
 * left, or when its self-signed placeholder is still served {@code autocert.placeholder-alert}
 * after this engine began serving it: the first certificate never came.
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

    /**
     * How long a certificate lock outlives a holder that died, in stores that keep leases (Vault);
     * kernel file locks and database sessions end with their holder. A live holder extends it.
     */
    private static final Duration LOCK_LEASE = Duration.ofMinutes(1);
    /** How long {@link #close()} lets a queued {@code autocert.notify-command} finish. */
    private static final Duration NOTIFY_WAIT_AT_CLOSE = Duration.ofSeconds(10);
    /** How soon to look again when another process holds a certificate's lock. */
    private static final Duration LOCK_BUSY_RETRY = Duration.ofSeconds(2);
    /** The least time between two ARI requests for one certificate: Let's Encrypt asks for at most about two a day. */
    static final Duration ARI_MIN_INTERVAL = Duration.ofHours(12);
    /** How soon to ask ARI again after the request failed. */
    private static final Duration ARI_FAILURE_RETRY = Duration.ofHours(1);
    /** How soon to read storage again after a read failed: a passing fault, so sooner than the order ladder. */
    private static final Duration READ_RETRY = Duration.ofSeconds(30);
    /** How often the scheduler thread looks at what is due; the clock it compares with may jump. */
    private static final Duration TICK = Duration.ofSeconds(1);
    /** How often storage is checked for versions other processes stored. */
    static final Duration STORAGE_CHECK_INTERVAL = Duration.ofSeconds(4);
    /** How often a store's change marker is read: one cheap read, so new versions arrive within seconds. */
    private static final Duration MARKER_CHECK_INTERVAL = Duration.ofSeconds(1);
    /** How long the engine waits for its listeners to take an event before it goes on. */
    private static final Duration LISTENER_WAIT = Duration.ofSeconds(10);
    /** How long a handshake for a name obtained on demand waits for its certificate before it gets the default one. */
    static final Duration ON_DEMAND_WAIT = Duration.ofSeconds(5);
    /** Consecutive failures with one CA, not outages, after which the next CA in {@code autocert.ca} is tried. */
    private static final int FALLBACK_AFTER = 2;
    /** How often reading storage at start is tried before a placeholder serves. */
    private static final int LOAD_ATTEMPTS = 3;

    private final AutocertSettings settings;
    private final Storage storage;
    private final Http01Tokens tokens;
    private final RetrySchedule retrySchedule;
    private final Clock clock;
    private final Duration storageCheckInterval;
    private final List<CertificateListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, State> states = new LinkedHashMap<>();
    private final Lineages lineages;
    private final AriRecords ariRecords;
    private final RenewalOutcomes outcomes;
    private final Accounts accounts;
    private final AcmeSessions sessions;
    private final OrderFlow orderFlow;
    private final Random random = new Random();
    private final ThreadPoolExecutor events;
    /** Runs {@code autocert.deploy-hook} after each new certificate, on its own thread; null when none. */
    private final DeployHook deployHook;

    private enum Phase { NEW, STARTED, STOPPED, CLOSED }

    /** Guards the lifecycle: {@link #load()}, {@link #start()}, {@link #stop()}. */
    private final Object lifecycle = new Object();
    private volatile Phase phase = Phase.NEW;
    /** Whether {@link #load()} ran; guarded by {@link #lifecycle}. */
    private boolean loaded;
    /** The scheduler of the current run; guarded by {@link #lifecycle}, null unless started. */
    private ScheduledThreadPoolExecutor scheduler;
    private volatile Thread eventThread;
    /** What handshakes are served now; replaced whole at each change. */
    private volatile CertificateSet served = CertificateSet.EMPTY;
    private final SniKeyManager keyManager;
    /** Whether names not configured may get a certificate at their first handshake; null when not. */
    private final OnDemandPolicy onDemand;
    /** The certificates obtained (or being obtained) on demand, by name. */
    private final Map<String, State> onDemandStates = new java.util.concurrent.ConcurrentHashMap<>();
    private final Duration onDemandWait;
    /** While {@link #load()} runs: events held back, to be published once with the whole set. */
    private List<Object[]> deferred;

    // Scheduler thread only.
    private final Map<String, Login> logins = new HashMap<>();
    private Instant nextStorageCheck = Instant.MIN;
    /** The store's change marker at the last storage check; null when it keeps none or none was read. */
    private String lastChangeMarker;
    private Instant nextChallengeSweep = Instant.MIN;
    /** Set by the store's watch when another process changed it: the next tick checks storage. */
    private volatile boolean storageChanged;
    private final CertificateMetrics metrics;
    /** The JMX view, registered while the engine runs. */
    private final ManagerMBean mbean;
    /** {@code autocert.notify-command}, or null. */
    private final NotifyCommand notifyCommand;
    /** Whether this engine made its store from the settings, and so closes it. */
    private final boolean ownsStorage;

    private CertificateManager(Builder builder) {
        this.settings = builder.settings;
        this.ownsStorage = builder.storage == null;
        this.storage = builder.storage != null ? builder.storage : Storage.of(settings, defaultStorageDirectory());
        this.tokens = new Http01Tokens(storage);
        this.metrics = new CertificateMetrics(tokens);
        this.mbean = new ManagerMBean(this, builder.clock);
        this.retrySchedule = builder.retrySchedule;
        this.clock = builder.clock;
        this.storageCheckInterval = builder.storageCheckInterval;
        this.listeners.addAll(builder.listeners);
        this.notifyCommand = settings.notifyCommand().map(NotifyCommand::new).orElse(null);
        if (notifyCommand != null) {
            listeners.add(notifyCommand);
        }
        Map<ChallengeType, ChallengeSolver> solvers = new EnumMap<>(ChallengeType.class);
        solvers.put(ChallengeType.HTTP_01, settings.manualAuthHook().isPresent()
                ? new ManualHookSolver(settings.manualAuthHook().get(), settings.manualCleanupHook().orElse(null), tokens)
                : new Http01Solver(tokens));
        TlsAlpn01Solver tlsAlpn01 = new TlsAlpn01Solver();
        solvers.put(ChallengeType.TLS_ALPN_01, tlsAlpn01);
        builder.solvers.forEach(s -> solvers.put(s.type(), s));
        if (settings.challenges().contains(ChallengeType.DNS_01) && !solvers.containsKey(ChallengeType.DNS_01)) {
            solvers.put(ChallengeType.DNS_01, dns01Solver(settings, builder.dnsProvider));
        }
        this.lineages = new Lineages(storage);
        this.ariRecords = new AriRecords(storage);
        this.outcomes = new RenewalOutcomes(storage);
        this.accounts = new Accounts(settings, storage);
        this.sessions = new AcmeSessions(settings);
        this.orderFlow = new OrderFlow(settings, solvers);
        for (ManagedCertificate certificate : settings.certificates()) {
            states.put(certificate.name(), new State(certificate));
        }
        this.events = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread thread = new Thread(r, "autocert-events");
            thread.setDaemon(true);
            eventThread = thread;
            return thread;
        });
        this.events.allowCoreThreadTimeOut(true);
        this.onDemand = settings.onDemandEnabled() ? new OnDemandPolicy(settings, builder.onDemandOrdersPerMinute, clock) : null;
        this.onDemandWait = builder.onDemandWait;
        this.keyManager = new SniKeyManager(() -> served, onDemand == null ? null : this::onDemandKeys, tlsAlpn01);
        this.deployHook = builder.runsDeployHook ? DeployHook.of(settings, storage) : null;
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

    /**
     * The key manager that serves this engine's certificates, for every connector's SSL context:
     * it picks each handshake's certificate by SNI from what the engine serves at that moment,
     * so a new certificate needs no reload. The same instance every time.
     */
    public SniKeyManager keyManager() {
        return keyManager;
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

    /**
     * Every certificate served now, real or placeholder, in the configured order; empty before
     * {@link #load()}. A certificate that covers only some of its configured names is followed
     * by a placeholder for the others, named {@code NAME~waiting}.
     */
    public List<CertifiedKey> certificates() {
        List<CertifiedKey> result = new ArrayList<>();
        for (State state : states.values()) {
            CertifiedKey current = state.current;
            CertifiedKey gap = state.gap;
            if (current != null) {
                result.add(current);
            }
            if (gap != null) {
                result.add(gap);
            }
        }
        for (State state : onDemandStates.values()) {
            CertifiedKey current = state.current;
            if (current != null && !current.placeholder()) {
                result.add(current); // until it is issued, the default certificate serves the name
            }
        }
        return List.copyOf(result);
    }

    /** The certificate served now for the managed certificate {@code name}. */
    public Optional<CertifiedKey> certificate(String name) {
        State state = states.get(name);
        return state == null ? Optional.empty() : Optional.ofNullable(state.current);
    }

    /** What this engine has done since it was built, counted (also in JMX and, in Spring Boot, Micrometer). */
    public CertificateMetrics metrics() {
        return metrics;
    }

    /**
     * What the engine knows of each managed certificate now, in the configured order: what is
     * served, which names are still waiting for a CA-issued certificate and why, when it renews,
     * and the last failure. Empty before {@link #load()}.
     */
    public List<CertificateStatus> status() {
        List<CertificateStatus> result = new ArrayList<>();
        for (State state : allStates()) {
            CertifiedKey current = state.current;
            if (current == null) {
                continue;
            }
            List<String> waiting = current.placeholder() ? state.certificate.domains()
                    : state.certificate.domains().stream().filter(d -> !current.names().contains(d)).toList();
            RenewalPolicy.Decision decision = current.placeholder() ? null
                    : RenewalPolicy.decide(current.notBefore(), current.notAfter(), Optional.ofNullable(state.ari).map(AriRecords.Record::choice));
            AutocertException error = state.lastError;
            result.add(new CertificateStatus(state.certificate.name(), state.certificate.domains(), current, waiting,
                    Optional.ofNullable(state.pending).or(() -> current.placeholder()
                            ? Optional.of("no certificate has been issued yet") : Optional.empty()),
                    Optional.ofNullable(decision).map(RenewalPolicy.Decision::due),
                    Optional.ofNullable(decision).map(d -> d.reason().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')),
                    state.failures, Optional.ofNullable(error).map(Throwable::getMessage),
                    phase == Phase.STARTED ? Optional.ofNullable(state.nextLook) : Optional.empty(),
                    Optional.ofNullable(placeholderAlertAt(state))));
        }
        return List.copyOf(result);
    }

    /**
     * Publishes what start-up serves, on this thread and without touching the network: each
     * stored, valid certificate (repairing {@code live/} when a crash left it behind), or a
     * placeholder for a name without one. {@link #start()} does this first unless it was done;
     * an adapter whose server needs its certificates before it binds, but answers challenges only
     * once it runs, calls this early and {@code start()} later, so that no order begins before
     * the server can answer. Idempotent; a second caller returns once the first has published.
     *
     * @throws InvalidSettingException naming {@code autocert.storage} when the store cannot be
     *     prepared or written (the path and the system's error in the message)
     */
    public void load() {
        synchronized (lifecycle) {
            if (loaded) {
                return;
            }
            try {
                storage.open();
                storage.watch(() -> storageChanged = true);
            } catch (IOException e) {
                throw new InvalidSettingException(AutocertSettings.PREFIX + AutocertSettings.STORAGE, e.getMessage());
            }
            checkAccountKeys();
            deferred = new ArrayList<>();
            Map<String, Lineages.Stored> orphans = null;
            for (State state : states.values()) {
                Lineages.Loaded found = readAtStart(state);
                if (found instanceof Lineages.Absent) {
                    if (orphans == null) {
                        orphans = orphanLineages();
                    }
                    found = bestOrphan(state, orphans);
                } else if (found instanceof Lineages.Found f) {
                    repairLive(state, f.stored());
                }
                if (found != null) {
                    apply(state, found);
                }
                if (state.current == null) {
                    state.current = Placeholders.create(state.certificate.name(), state.certificate.domains(), clock.instant());
                    state.placeholderSince = clock.instant();
                    publish(CertificateEvent.Type.PLACEHOLDER, state, null, null);
                }
            }
            // One set and one list for all of start-up: its cost grows with the number of
            // certificates, not with its square.
            List<Object[]> held = deferred;
            deferred = null;
            List<CertifiedKey> all = certificates();
            served = new CertificateSet(all);
            for (Object[] event : held) {
                publish((CertificateEvent.Type) event[0], (State) event[1], null, null, all);
            }
            loaded = true;
        }
    }

    private Lineages.Loaded readAtStart(State state) {
        for (int attempt = 1; ; attempt++) {
            try {
                return lineages.load(state.certificate.storageName(), state.certificate.name());
            } catch (IOException e) {
                if (attempt == LOAD_ATTEMPTS) {
                    state.readError = e;
                    LOG.warn("Cannot read certificate {} from {}: {}; serving a placeholder and reading again in {}",
                            state.certificate.name(), storage, e.toString(), READ_RETRY);
                    return null;
                }
                sleepQuietly(Duration.ofMillis(100L * attempt));
            }
        }
    }

    private void checkAccountKeys() {
        for (URI ca : settings.cas()) {
            try {
                accounts.checkKey(ca).ifPresent(problem -> LOG.error("{}", problem));
            } catch (IOException e) {
                LOG.warn("Cannot read the ACME account for {} from {}: {}", ca, storage, e.toString());
            }
        }
    }

    /**
     * Stored lineages that no configured certificate is named for, by name: what a settings
     * change (the first name changed) left behind, which may still serve some names.
     */
    private Map<String, Lineages.Stored> orphanLineages() {
        Map<String, Lineages.Stored> result = new LinkedHashMap<>();
        try {
            for (String name : lineages.names()) {
                if (states.values().stream().anyMatch(s -> s.certificate.storageName().equals(name))) {
                    continue;
                }
                if (lineages.load(name, name) instanceof Lineages.Found f) {
                    result.put(name, f.stored());
                }
            }
        } catch (IOException e) {
            LOG.debug("Cannot list stored lineages in {}: {}", storage, e.toString());
        }
        return result;
    }

    private Lineages.Loaded bestOrphan(State state, Map<String, Lineages.Stored> orphans) {
        Instant now = clock.instant();
        Lineages.Stored best = null;
        for (Lineages.Stored stored : orphans.values()) {
            int covered = stored.servable(state.certificate, now).size();
            if (covered > 0 && (best == null || covered > best.servable(state.certificate, now).size())) {
                best = stored;
            }
        }
        if (best == null) {
            return new Lineages.Absent();
        }
        CertifiedKey key = CertifiedKey.of(state.certificate.name(), best.key().privateKey(), best.key().chain())
                .withVersion(best.key().version());
        return new Lineages.Found(new Lineages.Stored(key, best.meta()));
    }

    /**
     * Starts the engine: publishes stored certificates and placeholders, on this thread, unless
     * {@link #load()} did, then orders and renews in the background. With {@code
     * autocert.startup-wait} set, returns only once every certificate is real. An engine that
     * was stopped can be started again.
     *
     * @throws AutocertException when {@code startup-wait} passed without every certificate issued
     * @throws IllegalStateException when already started
     */
    public void start() throws AutocertException {
        synchronized (lifecycle) {
            if (phase == Phase.STARTED) {
                throw new IllegalStateException("This CertificateManager is already started");
            }
            if (phase == Phase.CLOSED) {
                throw new IllegalStateException("This CertificateManager is closed; build a new one");
            }
            load();
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
                Thread thread = new Thread(r, "autocert-renewal");
                thread.setDaemon(true);
                return thread;
            });
            // At stop, work scheduled for later is dropped, not waited for.
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            executor.setRemoveOnCancelPolicy(true);
            scheduler = executor;
            phase = Phase.STARTED;
            Instant now = clock.instant();
            for (State state : states.values()) {
                state.nextLook = state.readError != null ? now.plus(READ_RETRY) : now;
            }
            nextStorageCheck = now.plus(storageCheckInterval);
            executor.scheduleWithFixedDelay(this::tick, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
            mbean.register();
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

    /** Whether {@link #start()} has been called (and {@link #stop()} not since). */
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
        CompletableFuture<CertifiedKey> result = new CompletableFuture<>();
        synchronized (lifecycle) {
            if (phase != Phase.STARTED) {
                return CompletableFuture.failedFuture(new IllegalStateException("The CertificateManager is " + phase));
            }
            try {
                scheduler.execute(() -> {
                    Optional<AutocertException> failure = maintain(state, true);
                    if (failure.isPresent()) {
                        result.completeExceptionally(failure.get());
                    } else {
                        result.complete(state.current);
                    }
                });
            } catch (RejectedExecutionException e) {
                result.completeExceptionally(new IllegalStateException("The CertificateManager is stopping"));
            }
        }
        return result;
    }

    /**
     * When the managed certificate {@code name} is due for an order: now (or earlier) when it
     * needs one now (none issued yet, names, key type or CA changed, or due by {@link
     * RenewalPolicy}), otherwise the moment it will be. Asks the CA's ARI when it offers it and
     * the last answer is old enough, as the scheduler does, and keeps the answer in storage.
     * Calls {@link #load()} first if it was not; on a started engine it runs on the scheduler
     * thread and waits for it.
     *
     * @throws IllegalArgumentException when no managed certificate is named {@code name}
     */
    public Instant renewalDue(String name) {
        State state = managed(name);
        load();
        return onEngineThread(() -> needsOrder(state) ? clock.instant() : decide(state).due());
    }

    /**
     * Orders a new version of {@code name} now when it is due (as {@link #renewalDue}) or when
     * {@code force} is true, and returns what happened: for tools that run no scheduler, such as
     * the command line's {@code renew} and {@code certonly}. As the scheduler does, it takes the
     * certificate's storage lock and re-reads storage under it, so it is safe beside servers that
     * share the storage: when one of them holds the lock the outcome is {@code BUSY}; when one
     * has just stored a version that is not due, {@code NOT_DUE}. Listeners hear of the outcome,
     * and it is recorded for {@link #storedCertificates()}, as for the scheduler's orders.
     *
     * <p>Calls {@link #load()} first if it was not. Runs on the calling thread, unless the engine
     * is started: then on the scheduler thread, and this waits for it.
     *
     * @throws IllegalArgumentException when no managed certificate is named {@code name}
     */
    public RenewalResult renewNow(String name, boolean force) {
        State state = managed(name);
        load();
        return onEngineThread(() -> renewStep(state, force));
    }

    private State managed(String name) {
        State state = states.get(requireNonNull(name, "name"));
        if (state == null) {
            throw new IllegalArgumentException("No managed certificate named " + name + "; managed: " + states.keySet());
        }
        return state;
    }

    /**
     * Runs {@code work} where the scheduler would: on its thread when started, otherwise here,
     * holding {@link #lifecycle} so that the engine does not start meanwhile.
     */
    private <T> T onEngineThread(java.util.function.Supplier<T> work) {
        ScheduledThreadPoolExecutor running;
        synchronized (lifecycle) {
            if (phase != Phase.STARTED) {
                return work.get();
            }
            running = scheduler;
        }
        try {
            return running.submit(work::get).get();
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("The CertificateManager is stopping", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the CertificateManager", e);
        }
    }

    /** {@link #renewNow}'s work: the scheduler's look at one certificate, reporting which way it went. */
    private RenewalResult renewStep(State state, boolean force) {
        String name = state.certificate.name();
        try {
            if (!force && !needsOrder(state)) {
                RenewalPolicy.Decision decision = decide(state);
                if (!decision.isDue(clock.instant())) {
                    return new RenewalResult(name, RenewalResult.Outcome.NOT_DUE, state.current, Optional.of(decision.due()), Optional.empty());
                }
            }
            Optional<Storage.Lock> lock = storage.tryLock("certificate-" + state.certificate.storageName(), LOCK_LEASE);
            if (lock.isEmpty()) {
                return new RenewalResult(name, RenewalResult.Outcome.BUSY, state.current, Optional.empty(), Optional.empty());
            }
            try (Storage.Lock held = lock.get()) {
                try {
                    refresh(state);
                } catch (IOException e) {
                    AutocertException cause = readFailed(state, e);
                    return new RenewalResult(name, RenewalResult.Outcome.FAILED, state.current, Optional.empty(), Optional.of(cause));
                }
                if (!force && !needsOrder(state)) {
                    RenewalPolicy.Decision decision = decide(state);
                    if (!decision.isDue(clock.instant())) {
                        return new RenewalResult(name, RenewalResult.Outcome.NOT_DUE, state.current, Optional.of(decision.due()),
                                Optional.empty());
                    }
                }
                boolean first = state.current.placeholder();
                orderUnder(held, state);
                state.failures = 0;
                state.lastError = null;
                return new RenewalResult(name, first ? RenewalResult.Outcome.OBTAINED : RenewalResult.Outcome.RENEWED, state.current,
                        Optional.empty(), Optional.empty());
            }
        } catch (AutocertException e) {
            return failedResult(state, failed(state, e));
        } catch (IOException e) {
            return failedResult(state, failed(state, new AutocertException("Storage " + storage + " failed: " + e.getMessage(), e)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failedResult(state, new AutocertException("Interrupted: the order for " + name + " was abandoned", e));
        } catch (RuntimeException e) {
            // acme4j reports some protocol and lazy-loading failures unchecked
            return failedResult(state, failed(state, new AutocertException("Unexpected failure for " + name + ": " + e, e)));
        }
    }

    private static RenewalResult failedResult(State state, AutocertException cause) {
        return new RenewalResult(state.certificate.name(), RenewalResult.Outcome.FAILED, state.current, Optional.empty(),
                Optional.of(cause));
    }

    /**
     * Every certificate in storage, whether this engine manages it or not, by lineage name: each
     * lineage with its current version (or why it cannot be read), and each name whose first
     * order failed, each with the last outcome that whichever process obtains or renews it
     * recorded. Reads storage alone: no network, no lock; neither {@link #load()} nor {@link
     * #start()} is needed. For the operator's {@code autocert certificates} and status pages.
     *
     * @throws IOException when storage cannot be listed or read
     */
    public List<StoredCertificate> storedCertificates() throws IOException {
        java.util.TreeMap<String, StoredCertificate> result = new java.util.TreeMap<>();
        for (String lineage : lineages.names()) {
            Optional<RenewalOutcomes.Recorded> recorded = outcomes.load(lineage);
            Optional<StoredCertificate.Outcome> last = recorded.map(RenewalOutcomes.Recorded::outcome);
            Lineages.Loaded loaded = lineages.load(lineage, lineage);
            if (loaded instanceof Lineages.Found found) {
                Lineages.Meta meta = found.stored().meta();
                CertifiedKey key = found.stored().key();
                Instant due = RenewalPolicy.decide(key.notBefore(), key.notAfter(),
                        ariRecords.load(lineage, key.serial()).map(AriRecords.Record::choice)).due();
                Optional<Lineages.Revoked> revoked = meta.revoked().filter(r -> r.serial().equals(key.serial()));
                StoredCertificate.Version version = new StoredCertificate.Version(meta.version(), key.names(), key.notBefore(),
                        key.notAfter(), key.serial(), key.issuer(), KeyType.of(key.certificate().getPublicKey()), meta.profile(),
                        meta.ca(), meta.stored(), due, revoked.map(Lineages.Revoked::at), revoked.map(Lineages.Revoked::reason));
                result.put(lineage, new StoredCertificate(meta.domains().get(0), lineage, meta.domains(), Optional.of(version),
                        Optional.empty(), last));
            } else if (loaded instanceof Lineages.Damaged damaged) {
                Optional<Lineages.Meta> meta = lineages.meta(lineage);
                List<String> domains = meta.map(Lineages.Meta::domains).or(() -> recorded.map(RenewalOutcomes.Recorded::domains))
                        .orElse(List.of());
                result.put(lineage, new StoredCertificate(domains.isEmpty() ? lineage : domains.get(0), lineage, domains,
                        Optional.empty(), Optional.of("the stored certificate is damaged: " + damaged.reason()), last));
            }
        }
        for (String lineage : outcomes.names()) {
            if (!result.containsKey(lineage)) {
                // a status without a lineage: the first order failed (or the lineage was deleted)
                outcomes.load(lineage).filter(r -> r.outcome().failed() && !r.domains().isEmpty())
                        .ifPresent(r -> result.put(lineage, new StoredCertificate(r.name(), lineage, r.domains(), Optional.empty(),
                                Optional.of(StoredCertificate.NEVER_ISSUED), Optional.of(r.outcome()))));
            }
        }
        return List.copyOf(result.values());
    }

    /**
     * Stops the engine: no new orders start, and one under way is abandoned at its next step.
     * Storage is never left half-written (every write is atomic). Idempotent; {@link #start()}
     * starts it again.
     */
    public void stop() {
        ScheduledThreadPoolExecutor running;
        synchronized (lifecycle) {
            running = scheduler;
            scheduler = null;
            if (phase != Phase.CLOSED) {
                phase = Phase.STOPPED;
            }
            mbean.unregister();
        }
        if (running == null) {
            return;
        }
        running.shutdown();
        try {
            if (!running.awaitTermination(2, TimeUnit.SECONDS)) {
                running.shutdownNow(); // interrupts an order's polling; a storage write is atomic
                running.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            running.shutdownNow();
            Thread.currentThread().interrupt();
        }
        LOG.debug("Certificate manager stopped");
    }

    /**
     * Stops the engine as {@link #stop()} does and, when it opened its store from the settings
     * (rather than being given one), closes it: connections and threads of a database or Vault
     * store are released. A closed engine cannot be started again; {@link #stop()} is the one to
     * call for a pause. Idempotent.
     */
    @Override
    public void close() {
        stop();
        synchronized (lifecycle) {
            if (phase == Phase.CLOSED) {
                return;
            }
            phase = Phase.CLOSED;
        }
        if (notifyCommand != null) {
            notifyCommand.finish(NOTIFY_WAIT_AT_CLOSE);
        }
        if (ownsStorage) {
            try {
                storage.close();
            } catch (IOException e) {
                LOG.warn("Cannot close storage {}: {}", storage, e.getMessage());
            }
        }
    }

    /** One look at everything, on the scheduler thread: storage changes, placeholders, what is due. */
    private void tick() {
        try {
            Instant now = clock.instant();
            if (storageChanged || !now.isBefore(nextStorageCheck)) {
                storageChanged = false;
                nextStorageCheck = now.plus(lastChangeMarker != null && storageCheckInterval.compareTo(MARKER_CHECK_INTERVAL) > 0
                        ? MARKER_CHECK_INTERVAL : storageCheckInterval);
                if (storageChangedSinceLastCheck()) {
                    checkStorage();
                }
            }
            if (!now.isBefore(nextChallengeSweep)) {
                nextChallengeSweep = now.plus(Http01Tokens.SWEEP_INTERVAL);
                tokens.sweep();
            }
            for (State state : allStates()) {
                if (phase != Phase.STARTED || Thread.currentThread().isInterrupted()) {
                    return;
                }
                if (!onDemandStates.containsKey(state.certificate.name()) || !state.current.placeholder()) {
                    refreshPlaceholders(state, now); // an on-demand name is served the default until issued
                }
                Instant next = state.nextLook;
                if (next != null && !now.isBefore(next)) {
                    maintain(state, false);
                }
                alertPlaceholder(state, now); // after maintain, at the same now: a failure there has alerted already
            }
        } catch (RuntimeException e) {
            LOG.error("The certificate scheduler failed; it goes on at the next tick", e);
        }
    }

    /** The configured certificates, then those obtained on demand. */
    private List<State> allStates() {
        if (onDemandStates.isEmpty()) {
            return List.copyOf(states.values());
        }
        List<State> all = new ArrayList<>(states.values());
        all.addAll(onDemandStates.values());
        return all;
    }

    /**
     * The keys for {@code serverName}, which nothing served covers, obtained on demand: from
     * storage when an earlier run obtained it, otherwise ordered now when the policy allows,
     * waiting at most {@code onDemandWait}. Empty: the handshake gets the default certificate.
     * Called on handshake threads.
     */
    private List<CertifiedKey> onDemandKeys(String serverName) {
        String name;
        try {
            name = DomainNames.normalize(AutocertSettings.PREFIX + AutocertSettings.ON_DEMAND, serverName);
        } catch (InvalidSettingException e) {
            return List.of(); // not a name a CA would certify
        }
        if (name.startsWith("*.") || DomainNames.isIp(name) || phase != Phase.STARTED) {
            return List.of();
        }
        State state = onDemandStates.get(name);
        if (state == null) {
            // The slow part (storage, the ask endpoint) runs under no shared lock: a slow or
            // probed name never holds up the first handshake of another.
            state = startOnDemand(name);
            if (state == null) {
                return List.of();
            }
        }
        CertifiedKey current = state.current;
        if (current.placeholder() && state.failures == 0) {
            try {
                current = state.firstReal.get(onDemandWait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                LOG.debug("Certificate for {} not issued within {}; this handshake gets the default one", name, onDemandWait);
            } catch (ExecutionException e) {
                return List.of();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return List.of();
            }
        }
        return current.placeholder() ? List.of() : List.of(current);
    }

    /**
     * Registers {@code name} for on-demand service and returns its state (another handshake's,
     * when one registered it meanwhile), or null when it gets no certificate.
     */
    private State startOnDemand(String name) {
        State state = new State(ManagedCertificate.of(List.of(name)));
        Lineages.Stored stored = null;
        try {
            if (lineages.load(state.certificate.storageName(), name) instanceof Lineages.Found f
                    && f.stored().mismatch(state.certificate, settings.cas(), settings.keyType(), clock.instant()).isEmpty()) {
                stored = f.stored();
            }
        } catch (IOException e) {
            LOG.debug("Cannot read storage for {}: {}", name, e.toString());
        }
        if (stored == null) {
            if (!onDemand.allows(name)) {
                return null;
            }
            if (!onDemand.tryAcquireOrder()) {
                LOG.warn("On-demand certificate for {} deferred: the new names a minute are used up", name);
                return null;
            }
        }
        state.current = stored != null ? stored.key() : Placeholders.create(name, List.of(name), clock.instant());
        State registered = onDemandStates.putIfAbsent(name, state);
        if (registered != null) {
            return registered; // a concurrent first handshake for the same name won
        }
        if (stored != null) {
            adopt(state, stored, Optional.empty()); // listed by certificates() now, so the published set has it
            state.nextLook = clock.instant();
            return state;
        }
        LOG.info("Obtaining a certificate for {} on demand, at its first handshake", name);
        ScheduledThreadPoolExecutor running;
        synchronized (lifecycle) {
            running = scheduler;
        }
        if (running != null) {
            try {
                running.execute(() -> maintain(state, false));
            } catch (RejectedExecutionException e) {
                // stopping
            }
        }
        return state;
    }

    /**
     * Makes {@code live/NAME} hold the current version again when a crash left it behind. The
     * comparison is cheap and lock-free; a repair happens under the certificate's lock, after
     * reading the lineage again, so that it never puts back an older version while another process
     * commits a newer one. When another process holds the lock, it is the one writing: no repair.
     */
    private void repairLive(State state, Lineages.Stored read) {
        String name = state.certificate.storageName();
        try {
            if (lineages.liveMatches(name, read.meta().version())) {
                return;
            }
            Optional<Storage.Lock> lock = storage.tryLock("certificate-" + name, LOCK_LEASE);
            if (lock.isEmpty()) {
                LOG.debug("live/{} differs from its current version, but another process holds its lock: leaving it to that one", name);
                return;
            }
            try (Storage.Lock held = lock.get()) {
                if (lineages.load(name, state.certificate.name()) instanceof Lineages.Found again) {
                    lineages.repairLive(name, again.stored());
                }
            }
        } catch (IOException e) {
            LOG.warn("Cannot repair live/{} in {}: {}", name, storage, e.getMessage());
        }
    }

    /**
     * Whether the store changed since the last check, by its change marker: one cheap read
     * instead of one per certificate. True when the store keeps no marker or it cannot be read.
     */
    private boolean storageChangedSinceLastCheck() {
        try {
            Optional<String> marker = storage.changeMarker();
            if (marker.isEmpty()) {
                lastChangeMarker = null;
                return true;
            }
            boolean changed = !marker.get().equals(lastChangeMarker);
            lastChangeMarker = marker.get();
            return changed;
        } catch (IOException e) {
            LOG.debug("Cannot read the change marker of {}: {}", storage, e.toString());
            lastChangeMarker = null;
            return true;
        }
    }

    /** Installs versions that another process (another node, the operator's command) stored. */
    private void checkStorage() {
        for (State state : allStates()) {
            try {
                Optional<Lineages.Head> head = lineages.head(state.certificate.storageName());
                if (head.isEmpty()) {
                    if (state.knownVersion != null) {
                        lineageDeleted(state);
                    }
                    continue;
                }
                Optional<Integer> version = head.get().version();
                boolean revoked = newlyRevoked(state, head.get());
                if (version.isPresent() && !version.get().equals(state.knownVersion) || revoked) {
                    LOG.debug("Version {} of {} appeared in storage", version.orElse(null), state.certificate.name());
                    if (refresh(state) || revoked) {
                        state.nextLook = clock.instant();
                    }
                }
            } catch (IOException e) {
                LOG.debug("Cannot check storage for {}: {}", state.certificate.name(), e.toString());
                lastChangeMarker = null; // the next check reads everything again, marker or not
            }
        }
    }

    /**
     * Whether storage records the served certificate as revoked ({@code autocert revoke}) and
     * this engine has not acted on it yet: then its refresh finds it revoked and it is replaced
     * at once.
     */
    private static boolean newlyRevoked(State state, Lineages.Head head) {
        CertifiedKey current = state.current;
        String serial = head.revokedSerial().orElse(null);
        if (serial == null || current == null || current.placeholder() || !serial.equalsIgnoreCase(current.serial())
                || serial.equalsIgnoreCase(state.revokedSerial)) {
            return false;
        }
        state.revokedSerial = serial;
        LOG.info("Certificate {} (serial {}) was revoked at its CA; ordering a new one now and serving the revoked one until it arrives",
                state.certificate.name(), serial);
        return true;
    }

    /**
     * The lineage was deleted from storage ({@code autocert delete}): a configured certificate
     * is ordered anew, what it serves now serving until the new one arrives; one obtained on
     * demand is dropped, so that the next handshake for its name asks the on-demand policy again.
     */
    private void lineageDeleted(State state) {
        String name = state.certificate.name();
        state.knownVersion = null;
        if (onDemandStates.remove(name, state)) {
            served = new CertificateSet(certificates()); // the next handshake sees it gone
            LOG.info("Certificate {} was deleted from storage; no longer served until a handshake obtains it on demand again", name);
            return;
        }
        state.pending = "its lineage was deleted from storage";
        state.nextLook = clock.instant();
        LOG.info("Certificate {} was deleted from storage; ordering a new one now and serving the current one until it arrives", name);
    }

    /** Makes a placeholder anew before it expires, for a name whose certificate is long in coming. */
    private void refreshPlaceholders(State state, Instant now) {
        CertifiedKey current = state.current;
        if (current != null && current.placeholder() && !now.isBefore(current.notAfter().minus(Placeholders.RENEW_BEFORE))) {
            state.current = Placeholders.create(state.certificate.name(), state.certificate.domains(), now);
            publish(CertificateEvent.Type.PLACEHOLDER, state, null, null);
        }
        CertifiedKey gap = state.gap;
        if (gap != null && !now.isBefore(gap.notAfter().minus(Placeholders.RENEW_BEFORE))) {
            state.gap = Placeholders.create(gap.name(), gap.names(), now);
            publish(CertificateEvent.Type.PLACEHOLDER, state, null, null);
        }
    }

    /**
     * Publishes {@code EXPIRING} once when a placeholder passes {@code autocert.placeholder-alert}
     * between failed attempts: the retry ladder may not try again for hours, or another process
     * holds the lock and this one never orders. Each failed attempt after that alerts again
     * ({@link #failed}), as for a real certificate, but this check never repeats itself.
     */
    private void alertPlaceholder(State state, Instant now) {
        if (state.placeholderAlerted || !placeholderOverdue(state, now)) {
            return;
        }
        state.placeholderAlerted = true;
        AutocertException error = state.lastError;
        publish(CertificateEvent.Type.EXPIRING, state, error != null ? error : stillPlaceholder(state, now), state.nextLook);
    }

    /**
     * When the placeholder {@code state} serves counts as expiring, or null: a real certificate
     * serves, the alert is off, or the name was obtained on demand (it is served the default
     * certificate until issued, and never had a placeholder of its own to alert on).
     */
    private Instant placeholderAlertAt(State state) {
        Instant since = state.placeholderSince;
        CertifiedKey current = state.current;
        Duration alert = settings.placeholderAlert();
        return since == null || current == null || !current.placeholder() || alert.isZero() ? null : since.plus(alert);
    }

    private boolean placeholderOverdue(State state, Instant now) {
        Instant at = placeholderAlertAt(state);
        return at != null && !now.isBefore(at);
    }

    /**
     * The cause of a placeholder's {@code EXPIRING} when no order of this engine has failed: then
     * another process holds the certificate's lock (and orders it, or fails to), and what to check.
     */
    private AutocertException stillPlaceholder(State state, Instant now) {
        String reach = String.join(", ", settings.challenges().stream().map(c -> switch (c) {
            case HTTP_01 -> "http-01 on port 80";
            case TLS_ALPN_01 -> "tls-alpn-01 on port 443";
            case DNS_01 -> "dns-01 through its DNS provider";
        }).toList());
        return new AutocertException("Certificate " + state.certificate.name() + ": still serving the self-signed placeholder after "
                + roughly(Duration.between(state.placeholderSince, now)) + ", though no order of this process has failed: another "
                + "process sharing " + storage + " may hold its lock and be ordering it (autocert certificates shows its last "
                + "outcome). Check that " + state.certificate.domains() + " resolve to the servers, that the CA reaches them ("
                + reach + "), and the log of each process for its orders");
    }

    /** {@code duration} for a person, to its two largest units: {@code 45s}, {@code 1h}, {@code 7h12m}, {@code 2d3h}. */
    private static String roughly(Duration duration) {
        long s = Math.max(0, duration.getSeconds());
        long days = s / 86_400;
        long hours = s % 86_400 / 3600;
        long minutes = s % 3600 / 60;
        long seconds = s % 60;
        if (days > 0) {
            return days + "d" + (hours > 0 ? hours + "h" : "");
        }
        if (hours > 0) {
            return hours + "h" + (minutes > 0 ? minutes + "m" : "");
        }
        if (minutes > 0) {
            return minutes + "m" + (seconds > 0 ? seconds + "s" : "");
        }
        return seconds + "s";
    }

    /**
     * One look at one certificate, on the scheduler thread: adopt a newer stored version, decide
     * whether it is due, order if it is (or if forced), and set when to look next.
     *
     * @return the failure, if this look failed
     */
    private Optional<AutocertException> maintain(State state, boolean force) {
        if (phase != Phase.STARTED) {
            return Optional.of(new AutocertException("The CertificateManager is stopped"));
        }
        String name = state.certificate.name();
        state.nextLook = null;
        try {
            if (!force && !needsOrder(state)) {
                // The common case, and all of start-up with many certificates: nothing to order,
                // so no lock and no storage read (the storage check installs what others store).
                RenewalPolicy.Decision decision = decide(state);
                if (!decision.isDue(clock.instant())) {
                    state.nextLook = nextLook(state, decision);
                    return Optional.empty();
                }
            }
            Optional<Storage.Lock> lock = storage.tryLock("certificate-" + state.certificate.storageName(), LOCK_LEASE);
            if (lock.isEmpty()) {
                LOG.debug("Another process holds the lock of {}; looking again in {}", name, LOCK_BUSY_RETRY);
                state.nextLook = clock.instant().plus(LOCK_BUSY_RETRY).plusMillis(random.nextInt(1000));
                return force ? Optional.of(new AutocertException("Another process is ordering " + name + " now")) : Optional.empty();
            }
            try (Storage.Lock held = lock.get()) {
                try {
                    refresh(state);
                } catch (IOException e) {
                    return Optional.of(readFailed(state, e));
                }
                if (!force && !needsOrder(state)) {
                    RenewalPolicy.Decision decision = decide(state);
                    if (!decision.isDue(clock.instant())) {
                        state.nextLook = nextLook(state, decision);
                        return Optional.empty();
                    }
                    LOG.debug("{} is due for renewal ({}, due {})", name, decision.reason(), decision.due());
                }
                orderUnder(held, state);
            }
            state.failures = 0;
            state.lastError = null;
            state.nextLook = nextLook(state, decide(state));
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

    private Instant nextLook(State state, RenewalPolicy.Decision decision) {
        Instant next = decision.due();
        AriRecords.Record ari = state.ari;
        if (ari != null && ari.nextCheck().isBefore(next)) {
            next = ari.nextCheck();
        }
        if (state.ariRetryAt != null && state.ariRetryAt.isBefore(next)) {
            next = state.ariRetryAt;
        }
        return next;
    }

    private static boolean needsOrder(State state) {
        return state.current.placeholder() || state.pending != null || state.gap != null;
    }

    /**
     * Reads the certificate's lineage and serves what it holds if that is better than what
     * serves now; reports damage once per version.
     *
     * @return whether the served certificate changed
     * @throws IOException when storage cannot be read: not damage, and no reason to order
     */
    private boolean refresh(State state) throws IOException {
        Lineages.Loaded found = lineages.load(state.certificate.storageName(), state.certificate.name());
        state.readError = null;
        return apply(state, found);
    }

    private boolean apply(State state, Lineages.Loaded found) {
        ManagedCertificate certificate = state.certificate;
        Instant now = clock.instant();
        if (found instanceof Lineages.Found f) {
            Lineages.Stored stored = f.stored();
            boolean own = stored.meta().domains().get(0).equals(certificate.name())
                    || lineageOf(stored).equals(certificate.storageName());
            if (own) {
                state.knownVersion = stored.meta().version();
                state.damagedVersion = -1;
            }
            Optional<String> mismatch = stored.mismatch(certificate, settings.cas(), settings.keyType(), now);
            CertifiedKey current = state.current;
            if (current != null && !current.placeholder() && current.serial().equals(stored.key().serial())) {
                state.pending = mismatch.orElse(null);
                state.meta = stored.meta();
                return false;
            }
            if (mismatch.isEmpty()) {
                if (current == null || current.placeholder() || state.pending != null
                        || stored.key().notAfter().isAfter(current.notAfter())) {
                    adopt(state, stored, Optional.empty());
                    return true;
                }
            } else if ((current == null || current.placeholder()) && !stored.servable(certificate, now).isEmpty()) {
                adopt(state, stored, mismatch);
                return true;
            } else if (current == null || current.placeholder()) {
                state.pending = mismatch.get();
            }
        } else if (found instanceof Lineages.Damaged d) {
            if (state.damagedVersion != d.version()) {
                state.damagedVersion = d.version();
                LOG.warn("Stored certificate {} in {} is damaged ({}); ordering it anew. Its files are left for a person to look at",
                        certificate.name(), storage, d.reason());
            }
            if (state.current == null || state.current.placeholder()) {
                state.pending = "the stored certificate is damaged: " + d.reason();
            }
        }
        return false;
    }

    private static String lineageOf(Lineages.Stored stored) {
        return ManagedCertificate.of(stored.meta().domains()).storageName();
    }

    /** Serves {@code stored}; when it does not cover every configured name, a placeholder serves the rest. */
    private void adopt(State state, Lineages.Stored stored, Optional<String> mismatch) {
        ManagedCertificate certificate = state.certificate;
        CertifiedKey key = stored.key();
        List<String> waiting = certificate.domains().stream().filter(d -> !key.names().contains(d)).toList();
        state.current = key;
        state.placeholderSince = null; // a real certificate serves: no longer a placeholder to alert on
        state.placeholderAlerted = false;
        state.meta = stored.meta();
        state.pending = mismatch.orElse(null);
        state.gap = waiting.isEmpty() ? null : Placeholders.create(certificate.name() + "~waiting", waiting, clock.instant());
        state.ari = ariRecords.load(certificate.storageName(), key.serial()).orElse(null);
        state.ariRetryAt = null;
        if (mismatch.isEmpty()) {
            state.failures = 0; // what failed to be ordered here is now served
            state.lastError = null;
        }
        publish(CertificateEvent.Type.LOADED, state, null, null);
        if (mismatch.isEmpty()) {
            state.firstReal.complete(key); // after listeners installed it: start-up may wait on this
        }
    }

    /**
     * Orders from the CAs in {@code autocert.ca}: from the first, unless it failed several times
     * in a row; from the next at once when one is unreachable.
     */
    /** {@link #orderWithFallback} with {@code lock} fencing the new version's writes. */
    private void orderUnder(Storage.Lock lock, State state) throws AutocertException, IOException, InterruptedException {
        state.orderLock = lock;
        try {
            orderWithFallback(state);
        } finally {
            state.orderLock = null;
        }
    }

    private void orderWithFallback(State state) throws AutocertException, IOException, InterruptedException {
        requireMayCreate(state);
        List<URI> cas = settings.cas();
        for (int i = Math.min(state.caIndex, cas.size() - 1); ; i++) {
            URI ca = cas.get(i);
            try {
                LOG.info("Ordering a certificate for {} from {}{}", state.certificate.name(), ca,
                        state.current.placeholder() ? "" : " to replace version " + state.current.version());
                orderFrom(state, ca);
                state.caIndex = 0; // the next renewal tries the first CA again
                state.caFailures = 0;
                return;
            } catch (AutocertException e) {
                boolean last = i + 1 >= cas.size();
                if (!last && e instanceof CaUnreachableException) {
                    LOG.warn("{}; trying the next CA in {}{}: {}", e.getMessage(), AutocertSettings.PREFIX, AutocertSettings.CA, cas.get(i + 1));
                    continue;
                }
                if (!last && ++state.caFailures >= FALLBACK_AFTER) {
                    LOG.warn("Ordering {} from {} failed {} times in a row; the next attempt goes to {}",
                            state.certificate.name(), ca, state.caFailures, cas.get(i + 1));
                    state.caIndex = i + 1;
                    state.caFailures = 0;
                }
                throw e;
            }
        }
    }

    /**
     * For a name with no lineage in storage yet: fails, before anything is ordered, when the
     * store says this process may not create the lineage's record (a renew-only Vault policy),
     * as the CA would otherwise issue a certificate that cannot be stored, at every retry.
     */
    private void requireMayCreate(State state) throws AutocertException, IOException {
        String lineage = state.certificate.storageName();
        if (state.knownVersion != null || lineages.head(lineage).isPresent()) {
            return; // a renewal, or a lineage another process stored: its record exists
        }
        String key = Lineages.metaKey(lineage);
        if (!storage.mayCreate(key)) {
            throw new AutocertException("Storage " + storage + " does not let this process create " + key + " (a renew-only "
                    + "policy, such as Vault's autocert-renew): no certificate was ordered for " + state.certificate.name()
                    + ". Obtain it once where certificates may be created (autocert certonly with the autocert-manage policy); "
                    + "this server then serves and renews it");
        }
    }

    private void orderFrom(State state, URI ca) throws AutocertException, IOException, InterruptedException {
        ManagedCertificate certificate = state.certificate;
        CertifiedKey current = state.current;
        // replaces (RFC 9773) names a certificate of the same account, so of the same CA
        Optional<CertifiedKey> replacing = !current.placeholder() && state.meta != null && AutocertSettings.sameCa(state.meta.ca(), ca)
                ? Optional.of(current) : Optional.empty();
        Login login = login(ca);
        OrderFlow.Issued issued;
        try {
            issued = orderFlow.order(login, certificate, replacing);
        } catch (AutocertException e) {
            if (!accountUnknown(e)) {
                throw e;
            }
            logins.remove(ca.toString());
            accounts.forgetLocation(ca);
            issued = orderFlow.order(login(ca), certificate, replacing);
        }
        Lineages.Stored stored = lineages.store(certificate, issued.key(), ca, settings.keyType(), supportsAri(login),
                issued.profile(), state.orderLock);
        boolean renewal = !current.placeholder();
        state.current = stored.key();
        state.placeholderSince = null;
        state.placeholderAlerted = false;
        state.meta = stored.meta();
        state.knownVersion = stored.meta().version();
        state.pending = null;
        state.gap = null;
        state.ari = null;
        state.ariRetryAt = null;
        publish(renewal ? CertificateEvent.Type.RENEWED : CertificateEvent.Type.OBTAINED, state, null, null);
        state.firstReal.complete(stored.key()); // after listeners installed it: start-up may wait on this
        if (deployHook != null) {
            deployHook.submit(certificate.name(), certificate.storageName(), certificate.domains()); // returns at once
        }
    }

    private static boolean accountUnknown(AutocertException e) {
        return e.getCause() instanceof AcmeServerException server && AcmeFailures.type(server).equals("accountDoesNotExist");
    }

    private static boolean supportsAri(Login login) {
        try {
            return login.getSession().resourceUrlOptional(Resource.RENEWAL_INFO).isPresent();
        } catch (AcmeException e) {
            return false; // the directory was read moments ago; if it cannot be now, assume no ARI
        }
    }

    private Login login(URI ca) throws AutocertException {
        Login login = logins.get(ca.toString());
        if (login != null && !accounts.isCurrent(login)) {
            // Another process rolled the account key over or deactivated the account
            // (autocert update_account, unregister): sign with what storage holds now.
            LOG.info("The ACME account at {} changed in {}; using the stored one", ca, storage);
            login = null;
        }
        if (login == null) {
            try {
                login = accounts.login(sessions.open(ca));
            } catch (RuntimeException e) {
                throw new CaUnreachableException("Cannot reach the CA at " + ca + ": " + AcmeFailures.network(ca, e), e);
            }
            logins.put(ca.toString(), login);
        }
        return login;
    }

    /**
     * The renewal decision for the served certificate, asking the CA's ARI when it offers it and
     * it is time to: at most once per {@link #ARI_MIN_INTERVAL}, never before its Retry-After.
     */
    private RenewalPolicy.Decision decide(State state) {
        CertifiedKey current = state.current;
        Instant now = clock.instant();
        Lineages.Meta meta = state.meta;
        if (meta != null && meta.ari() && settings.cas().stream().anyMatch(ca -> AutocertSettings.sameCa(ca, meta.ca()))) {
            if (state.ari == null) {
                state.ari = ariRecords.load(state.certificate.storageName(), current.serial()).orElse(null);
            }
            boolean asked = state.ari != null && now.isBefore(state.ari.nextCheck());
            boolean backingOff = state.ariRetryAt != null && now.isBefore(state.ariRetryAt);
            if (!asked && !backingOff) {
                askAri(state, meta.ca(), current, now);
            }
        }
        return RenewalPolicy.decide(current.notBefore(), current.notAfter(), Optional.ofNullable(state.ari).map(AriRecords.Record::choice));
    }

    private void askAri(State state, URI ca, CertifiedKey current, Instant now) {
        try {
            RenewalInfo info = login(ca).bindRenewalInfo(current.certificate());
            Optional<Instant> retryAfter = info.fetch();
            RenewalPolicy.AriWindow window = new RenewalPolicy.AriWindow(info.getSuggestedWindowStart(), info.getSuggestedWindowEnd());
            AriRecords.Record previous = state.ari;
            Instant choice = previous != null && previous.window().equals(window) ? previous.choice() : window.pick(random);
            Instant nextCheck = now.plus(ARI_MIN_INTERVAL);
            if (retryAfter.isPresent() && retryAfter.get().isAfter(nextCheck)) {
                nextCheck = retryAfter.get();
            }
            state.ari = new AriRecords.Record(current.serial(), window, choice, nextCheck);
            state.ariRetryAt = null;
            metrics.ariChecked(true);
            LOG.debug("ARI window for {} is {} to {}; renewing at {}; asking again at {}", current.name(), window.start(),
                    window.end(), choice, nextCheck);
            try {
                ariRecords.store(state.certificate.storageName(), state.ari);
            } catch (IOException e) {
                LOG.debug("Cannot store the ARI answer for {}: {}", current.name(), e.toString());
            }
        } catch (AcmeException | AutocertException | RuntimeException e) {
            state.ariRetryAt = now.plus(ARI_FAILURE_RETRY);
            metrics.ariChecked(false);
            LOG.debug("ARI check for {} failed, using the last answer or the lifetime rule: {}", current.name(), e.toString());
        }
    }

    private AutocertException readFailed(State state, IOException e) {
        AutocertException cause = new AutocertException("Cannot read certificate " + state.certificate.name() + " from "
                + storage + ": " + e + "; nothing is ordered until it can be read", e);
        state.readError = e;
        state.failures++;
        state.lastError = cause;
        Instant next = clock.instant().plus(READ_RETRY);
        state.nextLook = next;
        publish(CertificateEvent.Type.FAILED, state, cause, next);
        // once per outage: a store that cannot be read is retried every READ_RETRY
        if (!state.placeholderAlerted && placeholderOverdue(state, clock.instant())) {
            state.placeholderAlerted = true;
            publish(CertificateEvent.Type.EXPIRING, state, cause, next);
        }
        return cause;
    }

    private AutocertException failed(State state, AutocertException cause) {
        logins.clear(); // a failure may be the account's; logging in again costs nothing until used
        state.failures++;
        state.lastError = cause;
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
        state.nextLook = next;
        publish(CertificateEvent.Type.FAILED, state, cause, next);
        if (!current.placeholder() && RenewalPolicy.isExpiring(current.notBefore(), current.notAfter(), now)) {
            publish(CertificateEvent.Type.EXPIRING, state, cause, next);
        } else if (placeholderOverdue(state, now)) {
            state.placeholderAlerted = true; // and again at each failed attempt, as above
            publish(CertificateEvent.Type.EXPIRING, state, cause, next);
        }
        return cause;
    }

    private void publish(CertificateEvent.Type type, State state, AutocertException cause, Instant next) {
        if (deferred != null && Thread.holdsLock(lifecycle)) {
            deferred.add(new Object[] {type, state});
            return;
        }
        List<CertifiedKey> all = null;
        if (type.changesCertificates()) {
            all = certificates();
            served = new CertificateSet(all); // the next handshake sees it
        }
        publish(type, state, cause, next, all != null ? all : certificates());
    }

    /** Records an order's outcome in storage for other processes; a failure to write is only logged. */
    private void recordOutcome(CertificateEvent.Type type, State state, AutocertException cause, Instant next) {
        boolean failed = type == CertificateEvent.Type.FAILED;
        StoredCertificate.Outcome outcome = new StoredCertificate.Outcome(type, clock.instant(), failed ? state.failures : 0,
                failed && cause != null ? Optional.ofNullable(cause.getMessage()) : Optional.empty(),
                failed ? Optional.ofNullable(next) : Optional.empty());
        try {
            outcomes.store(state.certificate.storageName(), state.certificate.name(), state.certificate.domains(), outcome);
        } catch (IOException | RuntimeException e) {
            LOG.debug("Cannot record the outcome for {} in {}: {}", state.certificate.name(), storage, e.toString());
        }
    }

    private void publish(CertificateEvent.Type type, State state, AutocertException cause, Instant next, List<CertifiedKey> all) {
        CertifiedKey current = state.current;
        String name = state.certificate.name();
        Instant at = clock.instant(); // when it happened: before the outcome's storage write, which may take a while
        if (type == CertificateEvent.Type.OBTAINED || type == CertificateEvent.Type.RENEWED || type == CertificateEvent.Type.FAILED) {
            recordOutcome(type, state, cause, next);
            metrics.count(type, cause);
        }
        switch (type) {
            case LOADED -> {
                if (state.pending == null) {
                    LOG.info("Certificate {} loaded from storage (version {}), valid until {}", name, current.version(), current.notAfter());
                } else {
                    LOG.info("Certificate {} loaded from storage (version {}), valid until {}; it serves {} until a new one is "
                            + "issued because {}", name, current.version(), current.notAfter(),
                            state.certificate.domains().stream().filter(current.names()::contains).toList(), state.pending);
                }
            }
            case PLACEHOLDER -> LOG.info("Certificate {} not in storage yet; serving a self-signed placeholder for {} until it is issued",
                    name, state.gap != null ? state.gap.names() : state.certificate.domains());
            case OBTAINED -> LOG.info("Certificate {} obtained from {} for {}, valid until {}", name,
                    state.meta != null ? state.meta.ca() : settings.ca(), current.names(), current.notAfter());
            case RENEWED -> LOG.info("Certificate {} renewed (version {}), valid until {}", name, current.version(), current.notAfter());
            case FAILED -> LOG.warn("{} {} failed (attempt {}), next try at {}: {}", current.placeholder() ? "Obtaining" : "Renewing",
                    name, state.failures, next, cause.getMessage());
            case EXPIRING -> {
                if (!current.placeholder()) {
                    LOG.error("Certificate {} expires at {} and renewal keeps failing: {}", name, current.notAfter(), cause.getMessage());
                } else if (cause == state.lastError && state.placeholderSince != null) {
                    LOG.error("Certificate {}: still serving the self-signed placeholder after {}: {}", name,
                            roughly(Duration.between(state.placeholderSince, at)), cause.getMessage());
                } else {
                    LOG.error("{}", cause.getMessage()); // stillPlaceholder's, which says it all
                }
            }
        }
        if (cause != null && LOG.isDebugEnabled()) {
            LOG.debug("Failure details for {}", name, cause);
        }
        dispatch(new CertificateEvent(type, name, current, all, Optional.ofNullable(cause),
                state.failures, Optional.ofNullable(next), at));
    }

    /**
     * Hands {@code event} to the listeners on {@code autocert-events}, in order, and waits for
     * them a bounded time: a listener that blocks, or that waits for the engine, delays it by at
     * most {@link #LISTENER_WAIT} and never deadlocks it.
     */
    private void dispatch(CertificateEvent event) {
        if (listeners.isEmpty()) {
            return;
        }
        if (Thread.currentThread() == eventThread) {
            deliver(event); // a listener's own call into the engine: deliver in line
            return;
        }
        Future<?> delivery;
        try {
            delivery = events.submit(() -> deliver(event));
        } catch (RejectedExecutionException e) {
            return;
        }
        try {
            delivery.get(LISTENER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("The certificate listeners have not returned within {} from {} of {}; going on without them",
                    LISTENER_WAIT, event.type(), event.name());
        } catch (ExecutionException e) {
            LOG.warn("Delivering {} of {} failed", event.type(), event.name(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void deliver(CertificateEvent event) {
        for (CertificateListener listener : listeners) {
            try {
                listener.onEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("Certificate listener {} failed on {} of {}", listener, event.type(), event.name(), e);
            }
        }
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * What the engine knows of one managed certificate. Volatile fields are read by any thread;
     * the others are touched under {@link #lifecycle} during {@link #load()} and on the
     * scheduler thread after.
     */
    private static final class State {
        final ManagedCertificate certificate;
        final CompletableFuture<CertifiedKey> firstReal = new CompletableFuture<>();
        volatile CertifiedKey current;
        /** A placeholder for the configured names {@link #current} does not cover, or null. */
        volatile CertifiedKey gap;
        /** Why a new certificate is needed although one serves, or null. */
        volatile String pending;
        /**
         * When this engine began serving {@link #current} as a placeholder for want of a first
         * certificate; null once a real one serves, and for names obtained on demand.
         */
        volatile Instant placeholderSince;
        /** Whether {@code EXPIRING} was published for the placeholder served now. */
        boolean placeholderAlerted;
        volatile int failures;
        volatile AutocertException lastError;
        volatile Instant nextLook;
        volatile AriRecords.Record ari;
        Lineages.Meta meta;
        Integer knownVersion;
        /** The serial storage recorded as revoked that this engine has acted on; scheduler thread only. */
        String revokedSerial;
        int damagedVersion = -1;
        IOException readError;
        Instant ariRetryAt;
        int caIndex;
        int caFailures;
        /** The storage lock held while this certificate is ordered, fencing its new version's writes; null otherwise. */
        Storage.Lock orderLock;

        State(ManagedCertificate certificate) {
            this.certificate = certificate;
        }
    }

    /** Collects what an engine needs besides its settings. Not thread-safe. */
    /**
     * The dns-01 solver of the {@code autocert-dns} module, found on the class path of Autocert
     * itself or of the thread's context (a web application's).
     */
    private static ChallengeSolver dns01Solver(AutocertSettings settings, DnsProvider provider) {
        List<ClassLoader> loaders = new ArrayList<>();
        loaders.add(CertificateManager.class.getClassLoader());
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context != null && context != loaders.get(0)) {
            loaders.add(context);
        }
        for (ClassLoader loader : loaders) {
            for (Dns01SolverFactory factory : ServiceLoader.load(Dns01SolverFactory.class, loader)) {
                return factory.create(settings, provider);
            }
        }
        throw new InvalidSettingException(AutocertSettings.PREFIX + AutocertSettings.CHALLENGES,
                "includes dns-01, which needs the autocert-dns module (dev.autocert:autocert-dns and its dependencies) on the "
                + "class path beside autocert-core; add it, or remove dns-01");
    }

    public static final class Builder {
        private final AutocertSettings settings;
        private Storage storage;
        private final List<CertificateListener> listeners = new ArrayList<>();
        private final List<ChallengeSolver> solvers = new ArrayList<>();
        private DnsProvider dnsProvider;
        private RetrySchedule retrySchedule = RetrySchedule.defaults();
        private Clock clock = Clock.systemUTC();
        private Duration storageCheckInterval = STORAGE_CHECK_INTERVAL;
        private Duration onDemandWait = ON_DEMAND_WAIT;
        private int onDemandOrdersPerMinute = OnDemandPolicy.ORDERS_PER_MINUTE;
        private boolean runsDeployHook = true;

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

        /**
         * Sets the DNS-01 provider, in place of the one {@code autocert.dns-provider} names; the
         * {@code autocert-dns} module still checks propagation before the CA validates.
         */
        public Builder dnsProvider(DnsProvider provider) {
            this.dnsProvider = requireNonNull(provider, "provider");
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

        /** How long a handshake waits for a certificate obtained on demand; tests shorten it. */
        Builder onDemandWait(Duration wait) {
            this.onDemandWait = requireNonNull(wait, "wait");
            return this;
        }

        /** How many new names a minute are ordered on demand; tests lower it. */
        Builder onDemandOrdersPerMinute(int orders) {
            this.onDemandOrdersPerMinute = orders;
            return this;
        }

        /** How often storage is checked for versions other processes stored; tests shorten it. */
        Builder storageCheckInterval(Duration interval) {
            this.storageCheckInterval = requireNonNull(interval, "interval");
            return this;
        }

        /**
         * Sets whether the engine runs {@code autocert.deploy-hook} itself after each certificate it
         * obtains or renews (true unless set). A tool that runs the hook itself, in order with its
         * other hooks, turns it off: the {@code autocert} command does, for {@code certonly} and
         * {@code renew}.
         */
        public Builder runsDeployHook(boolean runs) {
            this.runsDeployHook = runs;
            return this;
        }

        /** Builds the engine; {@link CertificateManager#start()} starts it. */
        public CertificateManager build() {
            return new CertificateManager(this);
        }
    }
}
