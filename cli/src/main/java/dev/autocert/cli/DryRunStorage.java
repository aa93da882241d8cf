package dev.autocert.cli;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.Storage;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Storage for {@code --dry-run}: reads the real store and keeps every write, deletion and lock in
 * memory, so that a dry run sees the real lineages and accounts but leaves the store byte for byte
 * as it was (a staging account, a test certificate, its recorded outcome: all forgotten at exit).
 * Its locks are its own: a dry run writes nothing, so it need not keep servers out. Thread-safe.
 */
final class DryRunStorage implements Storage {

    private final Storage real;
    private final Map<String, byte[]> written = new HashMap<>();
    private final Set<String> deleted = new HashSet<>();
    private final Set<String> locks = new HashSet<>();

    DryRunStorage(Storage real) {
        this.real = requireNonNull(real, "real");
    }

    @Override
    public synchronized Optional<byte[]> load(String key) throws IOException {
        Storage.checkKey(key);
        if (deleted.contains(key)) {
            return Optional.empty();
        }
        byte[] value = written.get(key);
        return value != null ? Optional.of(value.clone()) : real.load(key);
    }

    @Override
    public synchronized void store(String key, byte[] value) {
        Storage.checkKey(key);
        written.put(key, requireNonNull(value, "value").clone());
        deleted.remove(key);
    }

    @Override
    public synchronized boolean delete(String key) throws IOException {
        boolean existed = load(key).isPresent();
        written.remove(key);
        deleted.add(key);
        return existed;
    }

    @Override
    public synchronized List<String> list(String prefix) throws IOException {
        Set<String> keys = new TreeSet<>(real.list(prefix));
        keys.removeAll(deleted);
        String start = prefix + "/";
        written.keySet().stream().filter(k -> k.startsWith(start)).forEach(keys::add);
        return List.copyOf(keys);
    }

    @Override
    public synchronized void storeSet(String prefix, Map<String, byte[]> values) throws IOException {
        for (String key : list(prefix)) {
            delete(key);
        }
        for (Map.Entry<String, byte[]> entry : values.entrySet()) {
            store(prefix + "/" + entry.getKey(), entry.getValue());
        }
    }

    /** Nothing to prepare: a dry run only reads the real store (which need not even exist). */
    @Override
    public void open() {
    }

    @Override
    public synchronized Optional<Lock> tryLock(String name, Duration lease) {
        Storage.checkKey(name);
        if (!locks.add(name)) {
            return Optional.empty();
        }
        return Optional.of(() -> {
            synchronized (this) {
                locks.remove(name);
            }
        });
    }

    /** Closes the real store, its connections and threads; nothing was written to it. */
    @Override
    public void close() throws IOException {
        real.close();
    }

    @Override
    public String toString() {
        return real + " (dry run: nothing is written to it)";
    }
}
