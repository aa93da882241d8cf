package dev.autocert.core;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real store seen through a test's wrapper, which overrides what it watches or breaks. The
 * operations every store has are forwarded; the optional ones ({@link #changeMarker()}, {@link
 * #watch}, {@link #mayCreate}, the guarded writes) keep {@link Storage}'s defaults unless a
 * subclass forwards them, so that an engine reads the store as it would one without them.
 */
abstract class ForwardingStorage implements Storage {

    final Storage delegate;

    ForwardingStorage(Storage delegate) {
        this.delegate = delegate;
    }

    @Override
    public Optional<byte[]> load(String key) throws IOException {
        return delegate.load(key);
    }

    @Override
    public void store(String key, byte[] value) throws IOException {
        delegate.store(key, value);
    }

    @Override
    public void storeSet(String prefix, Map<String, byte[]> values) throws IOException {
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
        return getClass().getSimpleName() + "[" + delegate + "]";
    }
}
