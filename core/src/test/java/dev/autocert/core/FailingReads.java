package dev.autocert.core;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real store whose next {@code failures} reads fail, as a network file system or a store under
 * maintenance does for a moment: storage that cannot be read is not storage that is damaged.
 */
final class FailingReads extends ForwardingStorage {

    private final AtomicInteger failures;

    FailingReads(Storage delegate, int failures) {
        super(delegate);
        this.failures = new AtomicInteger(failures);
    }

    /** Makes the next {@code count} reads fail. */
    void failNext(int count) {
        failures.set(count);
    }

    @Override
    public Optional<byte[]> load(String key) throws IOException {
        if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new IOException("injected read failure: Input/output error reading " + key);
        }
        return delegate.load(key);
    }
}
