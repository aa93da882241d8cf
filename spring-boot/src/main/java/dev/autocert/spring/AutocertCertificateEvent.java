package dev.autocert.spring;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import org.springframework.context.ApplicationEvent;

/**
 * A {@link CertificateEvent} of the application's {@link CertificateManager}, published as a
 * Spring application event: certificates loaded at start-up, placeholders, new and renewed
 * certificates, failures. Listen with {@code @EventListener} or an {@code ApplicationListener}:
 *
 * <pre>{@code
 * @EventListener
 * void onCertificate(AutocertCertificateEvent event) {
 *     if (event.getEvent().type() == CertificateEvent.Type.FAILED) {
 *         alerts.send(event.getEvent().name() + ": " + event.getEvent().cause().orElseThrow().getMessage());
 *     }
 * }
 * }</pre>
 *
 * <p>Events published while the context starts are delivered once it has refreshed, so every
 * listener hears them; later ones arrive on the engine's thread ({@code autocert-renewal}), one
 * at a time and in order: keep listeners quick. Immutable.
 */
public class AutocertCertificateEvent extends ApplicationEvent {

    private final transient CertificateEvent event;

    /** An event from {@code manager}. */
    public AutocertCertificateEvent(CertificateManager manager, CertificateEvent event) {
        super(manager);
        this.event = requireNonNull(event, "event");
    }

    /** The engine's event: its type, the certificate's name, the certificate served, the cause of a failure. */
    public CertificateEvent getEvent() {
        return event;
    }

    /** The engine that published it. */
    public CertificateManager getManager() {
        return (CertificateManager) getSource();
    }

    @Override
    public String toString() {
        return "AutocertCertificateEvent[" + event.type() + " " + event.name() + "]";
    }
}
