package dev.autocert.spring;

import dev.autocert.core.AutocertException;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertificateManager;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.context.ApplicationContextException;
import org.springframework.context.SmartLifecycle;

/**
 * Runs the {@link CertificateManager} with the application context, in two steps.
 *
 * <ol>
 *   <li>When this bean is created (the web server customizers depend on it, so before the web
 *       server is created): the listeners are added, the engine publishes the stored
 *       certificates or placeholders without touching the network, and the {@code autocert} SSL
 *       bundle is registered for the server to use, once: later certificates reach the server
 *       through the engine's key manager, not through the bundle.</li>
 *   <li>When the context starts, last, after the web server listens and so can answer the CA's
 *       challenges: the engine starts ordering and renewing ({@code autocert.startup-wait}
 *       holds start-up here). When the context stops, first, the engine stops.</li>
 * </ol>
 */
final class AutocertLifecycle implements SmartLifecycle, InitializingBean {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertLifecycle.class);
    /** How many certificates the start-up log line names. */
    private static final int SUMMARY_LIMIT = 10;

    private final CertificateManager manager;
    private final AutocertSslBundle bundle;
    private final List<CertificateListener> listeners;
    private volatile boolean running;

    AutocertLifecycle(CertificateManager manager, AutocertSslBundle bundle, List<CertificateListener> listeners) {
        this.manager = manager;
        this.bundle = bundle;
        this.listeners = List.copyOf(listeners);
    }

    @Override
    public void afterPropertiesSet() {
        listeners.forEach(manager::addListener);
        LOG.info("Autocert manages {}: CA {}, storage {}, HTTP-01 on port {}", summary(manager.settings().certificates().stream()
                .map(c -> String.join(",", c.domains())).toList()), manager.settings().ca(), manager.storage(),
                manager.settings().httpPort());
        manager.load();
        bundle.register();
    }

    /** The certificates' names for a log line: all of them, or the first few and how many more there are. */
    private static String summary(List<String> names) {
        return names.size() <= SUMMARY_LIMIT ? names.toString()
                : names.subList(0, SUMMARY_LIMIT) + " and " + (names.size() - SUMMARY_LIMIT) + " more certificates";
    }

    @Override
    public void start() {
        if (!manager.settings().startupWait().isZero()) {
            LOG.info("Waiting up to {} (autocert.startup-wait) for certificates from {}", manager.settings().startupWait(),
                    manager.settings().ca());
        }
        try {
            manager.start();
        } catch (AutocertException e) {
            throw new ApplicationContextException(e.getMessage(), e);
        }
        running = true;
    }

    @Override
    public void stop() {
        manager.stop();
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Starts last and stops first: after the web server listens, before it stops. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE;
    }
}
