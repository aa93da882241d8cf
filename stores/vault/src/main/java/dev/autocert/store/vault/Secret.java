package dev.autocert.store.vault;

import static java.util.Objects.requireNonNull;

/**
 * A token or an AppRole secret ID: its {@link #toString()} never shows it, so it cannot reach a
 * log line or a message by accident. Immutable.
 */
final class Secret {

    private final String value;

    Secret(String value) {
        this.value = requireNonNull(value, "value");
    }

    /** {@return the secret itself, for the one header or body that sends it} */
    String reveal() {
        return value;
    }

    boolean sameAs(Secret other) {
        return other != null && value.equals(other.value);
    }

    @Override
    public String toString() {
        return "(hidden)";
    }
}
