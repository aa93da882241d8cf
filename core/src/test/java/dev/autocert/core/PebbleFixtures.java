package dev.autocert.core;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;

/** Settings that point Autocert at a test's Pebble. */
final class PebbleFixtures {

    private PebbleFixtures() {
    }

    static AutocertSettings.Builder settings(PebbleServer pebble, Path storage, String domains) {
        return AutocertSettings.builder()
                .properties(pebble.autocertProperties())
                .domains(domains)
                .email("admin@example.test")
                .storage(storage);
    }
}
