package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * Keeps what the CA last said through ARI (RFC 9773) about each lineage's current certificate, in
 * {@code ari/NAME.properties}: the suggested window, the moment picked in it, and when the CA may
 * be asked again. Kept in storage so that a restart, or another node sharing the storage, neither
 * asks again before that time nor picks another moment.
 */
final class AriRecords {

    private final Storage storage;

    AriRecords(Storage storage) {
        this.storage = requireNonNull(storage, "storage");
    }

    /**
     * What the CA said of the certificate with {@code serial}.
     *
     * @param window   the suggested window
     * @param choice   the moment picked inside it
     * @param nextCheck when the CA may be asked again
     */
    record Record(String serial, RenewalPolicy.AriWindow window, Instant choice, Instant nextCheck) {
    }

    /** The record of {@code storageName} for the certificate {@code serial}; empty when there is none for it, or on any doubt. */
    Optional<Record> load(String storageName, String serial) {
        try {
            Optional<byte[]> bytes = storage.load(key(storageName));
            if (bytes.isEmpty()) {
                return Optional.empty();
            }
            Properties p = new Properties();
            p.load(new ByteArrayInputStream(bytes.get()));
            if (!serial.equals(p.getProperty("serial"))) {
                return Optional.empty();
            }
            return Optional.of(new Record(serial, new RenewalPolicy.AriWindow(Instant.parse(p.getProperty("window-start")),
                    Instant.parse(p.getProperty("window-end"))), Instant.parse(p.getProperty("choice")),
                    Instant.parse(p.getProperty("next-check"))));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // asking the CA again is the safe answer
        }
    }

    void store(String storageName, Record record) throws IOException {
        Properties p = new Properties();
        p.setProperty("serial", record.serial());
        p.setProperty("window-start", record.window().start().toString());
        p.setProperty("window-end", record.window().end().toString());
        p.setProperty("choice", record.choice().toString());
        p.setProperty("next-check", record.nextCheck().toString());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.store(out, "Autocert: the CA's last ARI answer for the current certificate");
        storage.store(key(storageName), out.toByteArray());
    }

    private static String key(String storageName) {
        return "ari/" + storageName + ".properties";
    }
}
