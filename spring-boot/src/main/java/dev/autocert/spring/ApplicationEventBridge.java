package dev.autocert.spring;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertificateManager;
import java.util.ArrayList;
import java.util.List;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextRefreshedEvent;

/**
 * Publishes each engine event as an {@link AutocertCertificateEvent}. Events from start-up
 * (published before the web server is created, when {@code @EventListener} methods are not
 * registered yet) are held until the context has refreshed, then published in order.
 * Thread-safe.
 */
final class ApplicationEventBridge implements CertificateListener, ApplicationListener<ContextRefreshedEvent> {

    private final ApplicationEventPublisher publisher;
    private final CertificateManager manager;
    private final List<CertificateEvent> pending = new ArrayList<>();
    private boolean open;

    ApplicationEventBridge(ApplicationEventPublisher publisher, CertificateManager manager) {
        this.publisher = publisher;
        this.manager = manager;
    }

    @Override
    public synchronized void onEvent(CertificateEvent event) {
        if (open) {
            publisher.publishEvent(new AutocertCertificateEvent(manager, event));
        } else {
            pending.add(event);
        }
    }

    @Override
    public synchronized void onApplicationEvent(ContextRefreshedEvent event) {
        if (open) {
            return;
        }
        open = true;
        for (CertificateEvent held : pending) {
            publisher.publishEvent(new AutocertCertificateEvent(manager, held));
        }
        pending.clear();
    }
}
