package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Records a manager's events and waits for the ones a test expects. */
final class Events implements CertificateListener {

    private final List<CertificateEvent> events = new ArrayList<>();

    @Override
    public synchronized void onEvent(CertificateEvent event) {
        events.add(event);
        notifyAll();
    }

    synchronized List<CertificateEvent> all() {
        return List.copyOf(events);
    }

    synchronized List<CertificateEvent> of(CertificateEvent.Type type) {
        return events.stream().filter(e -> e.type() == type).toList();
    }

    /** Waits until {@code count} events match, and returns them. */
    synchronized List<CertificateEvent> await(int count, Predicate<CertificateEvent> matching, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<CertificateEvent> matched = events.stream().filter(matching).toList();
            if (matched.size() >= count) {
                return matched;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail("Waited " + timeout + " for " + count + " matching events; got " + describe(events));
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    synchronized CertificateEvent await(CertificateEvent.Type type, String name, Duration timeout) throws InterruptedException {
        return await(1, e -> e.type() == type && e.name().equals(name), timeout).get(0);
    }

    private static List<String> describe(List<CertificateEvent> events) {
        List<String> result = new ArrayList<>();
        for (CertificateEvent e : events) {
            result.add(e.type() + " " + e.name() + e.cause().map(c -> " (" + c.getMessage() + ")").orElse(""));
        }
        return result;
    }
}
