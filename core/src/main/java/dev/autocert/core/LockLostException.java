package dev.autocert.core;

import java.io.IOException;

/**
 * A {@link Storage.Lock} is no longer held: it was released, or its lease ran out and another
 * process may have taken it. A fenced write ({@link Storage#store(String, byte[], Storage.Lock)})
 * that throws it changed nothing.
 */
public final class LockLostException extends IOException {

    private static final long serialVersionUID = 1L;

    /** @param message which lock, and how it was lost */
    public LockLostException(String message) {
        super(message);
    }
}
