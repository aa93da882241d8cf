package dev.autocert.core;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real store whose next {@code failures} reads fail, as a network file system or a store under
 * maintenance does for a moment: storage that cannot be read is not storage that is damaged.
 */
final class FailingReads implements Storage {

    private final Storage delegate;
    private final AtomicInteger failures;

    FailingReads(Storage delegate, int failures) {
        this.delegate = delegate;
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

    @Override
    public void store(String key, byte[] value) throws IOException {
        delegate.store(key, value);
    }

    @Override
    public void storeSet(String prefix, java.util.Map<String, byte[]> values) throws IOException {
        delegate.storeSet(prefix, values);
    }

    @Override
    public void open() throws IOException {
        delegate.open();
    }

    @Override
    public boolean delete(String key) throws IOException {
        return delegate.delete(key);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return delegate.list(prefix);
    }

    @Override
    public Optional<Lock> tryLock(String name, Duration lease) throws IOException {
        return delegate.tryLock(name, lease);
    }

    @Override
    public String toString() {
        return "FailingReads[" + delegate + "]";
    }
}
