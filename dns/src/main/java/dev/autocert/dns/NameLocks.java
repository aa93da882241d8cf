package dev.autocert.dns;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One lock object per key, such as a record's name, for providers whose API makes them read
 * before they write: two changes at one name within the process then never lose one another
 * (across processes, only an API's conditional writes can do that). Thread-safe; locks are
 * kept for the life of the process, one small object per name ever changed.
 */
final class NameLocks {

    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    /** {@return the lock of {@code key}, the same object every time} */
    Object of(String key) {
        return locks.computeIfAbsent(key, k -> new Object());
    }
}
