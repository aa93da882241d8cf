package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a certificate may be obtained on demand for a name a client asked for, and
 * how fast: the abuse it prevents is anyone pointing a name at the server and making it order
 * certificates (and spend the account's rate limits) for them. Thread-safe.
 *
 * <ul>
 * <li>The name must match {@code autocert.on-demand} (when set) and the
 *     {@code autocert.on-demand-ask} endpoint must answer 200 (when set). Answers are kept for a
 *     minute, so probes for many names cannot hammer the endpoint.
 * <li>At most {@link #ORDERS_PER_MINUTE} new names a minute are ordered overall; a name whose
 *     order failed waits for the engine's retry ladder.
 * </ul>
 */
final class OnDemandPolicy {

    private static final Logger LOG = LoggerFactory.getLogger(OnDemandPolicy.class);

    /** New names ordered per minute at most, for the whole server. */
    static final int ORDERS_PER_MINUTE = 10;
    /** How long an answer of the ask endpoint is kept. */
    private static final Duration ANSWER_TTL = Duration.ofMinutes(1);
    private static final int MAX_ANSWERS = 10_000;
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

    private final List<String> patterns;
    private final Optional<URI> ask;
    private final int ordersPerMinute;
    private final Clock clock;
    private final HttpClient http;
    private final Map<String, Answer> answers = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Answer> eldest) {
            return size() > MAX_ANSWERS;
        }
    };
    private final Deque<Instant> recentOrders = new ArrayDeque<>();

    private record Answer(boolean allowed, Instant until) {
    }

    OnDemandPolicy(AutocertSettings settings, int ordersPerMinute, Clock clock) {
        this.patterns = settings.onDemand();
        this.ask = settings.onDemandAsk();
        this.ordersPerMinute = ordersPerMinute;
        this.clock = requireNonNull(clock, "clock");
        this.http = ask.isPresent() ? HttpClient.newBuilder().connectTimeout(ASK_TIMEOUT).build() : null;
    }

    /** Whether {@code name} (normalised) matches {@code autocert.on-demand}; true when that is not set. */
    boolean matches(String name) {
        if (patterns.isEmpty()) {
            return true;
        }
        for (String pattern : patterns) {
            if (pattern.equals(name)) {
                return true;
            }
            if (pattern.startsWith("*.")) {
                int dot = name.indexOf('.');
                if (dot > 0 && name.substring(dot + 1).equals(pattern.substring(2))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether a certificate may be ordered for {@code name}: the names, then the ask endpoint. */
    boolean allows(String name) {
        if (!matches(name)) {
            LOG.debug("On-demand certificate for {} refused: not in {}{}", name, AutocertSettings.PREFIX, AutocertSettings.ON_DEMAND);
            return false;
        }
        if (ask.isEmpty()) {
            return true;
        }
        Instant now = clock.instant();
        synchronized (answers) {
            Answer known = answers.get(name);
            if (known != null && now.isBefore(known.until())) {
                return known.allowed();
            }
        }
        boolean allowed = askEndpoint(name);
        synchronized (answers) {
            answers.put(name, new Answer(allowed, now.plus(ANSWER_TTL)));
        }
        return allowed;
    }

    private boolean askEndpoint(String name) {
        URI base = ask.get();
        URI url = URI.create(base + (base.getRawQuery() == null ? "?" : "&") + "domain="
                + URLEncoder.encode(name, StandardCharsets.UTF_8));
        try {
            HttpResponse<Void> response = http.send(HttpRequest.newBuilder(url).timeout(ASK_TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            boolean allowed = response.statusCode() == 200;
            LOG.debug("{} answered {} for {}", base, response.statusCode(), name);
            return allowed;
        } catch (IOException e) {
            LOG.warn("On-demand certificate for {} refused: {} {} could not be asked: {}", name,
                    AutocertSettings.PREFIX + AutocertSettings.ON_DEMAND_ASK, base, e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Takes one of the minute's orders; false when they are used up. */
    boolean tryAcquireOrder() {
        Instant now = clock.instant();
        synchronized (recentOrders) {
            while (!recentOrders.isEmpty() && !recentOrders.peekFirst().isAfter(now.minus(Duration.ofMinutes(1)))) {
                recentOrders.removeFirst();
            }
            if (recentOrders.size() >= ordersPerMinute) {
                return false;
            }
            recentOrders.addLast(now);
            return true;
        }
    }
}
