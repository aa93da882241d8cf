package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.context.event.EventListener;
import org.springframework.test.context.DynamicPropertyRegistry;

/** What the Spring Boot integration tests share: Pebble's properties, waiting for certificates, recorded events. */
final class TestAutocert {

    /** Generous: an issuance on Pebble takes about a second, but the machine may be busy. */
    static final Duration ISSUANCE_TIMEOUT = Duration.ofSeconds(60);

    private TestAutocert() {
    }

    /** Points Autocert at {@code pebble}, with its storage in {@code storage}. */
    static void pebbleProperties(DynamicPropertyRegistry registry, PebbleServer pebble, Path storage) {
        pebble.autocertProperties().forEach((key, value) -> registry.add(key, () -> value));
        registry.add("autocert.email", () -> "admin@example.test");
        registry.add("autocert.storage", storage::toString);
        registry.add("logging.level.dev.autocert", () -> "debug");
    }

    /** Waits until the engine holds a real certificate (not a placeholder) for {@code name}. */
    static CertifiedKey awaitReal(CertificateManager manager, String name) throws InterruptedException {
        long deadline = System.nanoTime() + ISSUANCE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            CertifiedKey key = manager.certificate(name).orElseThrow();
            if (!key.placeholder()) {
                return key;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("No certificate for " + name + " within " + ISSUANCE_TIMEOUT + "; see the log. "
                + "The engine's threads now:\n" + engineThreads());
    }

    /** The stacks of Autocert's threads, for a failure message: where an engine that does nothing is stuck. */
    static String engineThreads() {
        StringBuilder dump = new StringBuilder();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            if (thread.getName().startsWith("autocert")) {
                dump.append('"').append(thread.getName()).append("\" ").append(thread.getState()).append('\n');
                for (StackTraceElement element : stack) {
                    dump.append("    at ").append(element).append('\n');
                }
            }
        });
        return dump.length() == 0 ? "(none)" : dump.toString();
    }

    /** Records every {@link AutocertCertificateEvent} the application publishes. */
    static final class RecordedEvents {
        private final List<AutocertCertificateEvent> events = new CopyOnWriteArrayList<>();

        @EventListener
        void on(AutocertCertificateEvent event) {
            events.add(event);
        }

        List<String> types(String name) {
            return events.stream().filter(e -> e.getEvent().name().equals(name)).map(e -> e.getEvent().type().name()).toList();
        }
    }
}
