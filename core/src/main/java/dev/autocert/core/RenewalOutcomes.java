package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * Keeps the last outcome of obtaining or renewing each certificate, in {@code
 * status/NAME.properties}, so that another process (the operator's {@code autocert
 * certificates}, another node) can tell what the process that renews it last saw: {@code
 * obtained}, {@code renewed} or {@code failed}, when, the attempt, the error's message and the
 * next attempt. Error messages are the engine's own, which never hold a secret.
 *
 * <p>One small atomic write per outcome; the last writer wins, as the last outcome should.
 * Thread-safe, as its {@link Storage} is.
 */
final class RenewalOutcomes {

    private static final String PREFIX = "status/";
    private static final String SUFFIX = ".properties";
    /** Longer messages are cut: the file is a summary, the log has the rest. */
    private static final int MAX_ERROR = 2000;

    private final Storage storage;

    RenewalOutcomes(Storage storage) {
        this.storage = requireNonNull(storage, "storage");
    }

    /**
     * Records {@code outcome} for the certificate {@code name} (stored as {@code storageName}),
     * configured for {@code domains}.
     */
    void store(String storageName, String name, List<String> domains, StoredCertificate.Outcome outcome) throws IOException {
        Properties p = new Properties();
        p.setProperty("name", name);
        p.setProperty("domains", String.join(",", domains));
        p.setProperty("outcome", outcome.type().name().toLowerCase(java.util.Locale.ROOT));
        p.setProperty("at", outcome.at().toString());
        p.setProperty("attempt", Integer.toString(outcome.attempt()));
        outcome.error().ifPresent(e -> p.setProperty("error", e.length() > MAX_ERROR ? e.substring(0, MAX_ERROR) + "…" : e));
        outcome.nextAttempt().ifPresent(t -> p.setProperty("next-attempt", t.toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.store(out, "Autocert: the last outcome of obtaining or renewing this certificate");
        storage.store(key(storageName), out.toByteArray());
    }

    /** What was recorded; empty when nothing was, or when the file cannot be read or parsed. */
    Optional<Recorded> load(String storageName) {
        try {
            Optional<byte[]> bytes = storage.load(key(storageName));
            if (bytes.isEmpty()) {
                return Optional.empty();
            }
            Properties p = new Properties();
            p.load(new ByteArrayInputStream(bytes.get()));
            CertificateEvent.Type type = CertificateEvent.Type.valueOf(p.getProperty("outcome").toUpperCase(java.util.Locale.ROOT));
            StoredCertificate.Outcome outcome = new StoredCertificate.Outcome(type, Instant.parse(p.getProperty("at")),
                    Integer.parseInt(p.getProperty("attempt", "0")), Optional.ofNullable(p.getProperty("error")),
                    Optional.ofNullable(p.getProperty("next-attempt")).map(Instant::parse));
            String domains = p.getProperty("domains", "");
            return Optional.of(new Recorded(p.getProperty("name", storageName),
                    domains.isEmpty() ? List.of() : Arrays.asList(domains.split(",")), outcome));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // a summary for people: never a reason to fail
        }
    }

    /** The storage names that have a recorded outcome. */
    List<String> names() throws IOException {
        return storage.list("status").stream()
                .map(key -> key.substring(PREFIX.length()))
                .filter(file -> file.endsWith(SUFFIX) && !file.contains("/"))
                .map(file -> file.substring(0, file.length() - SUFFIX.length()))
                .toList();
    }

    /** Forgets the outcome of {@code storageName}, as when its lineage is deleted. */
    boolean delete(String storageName) throws IOException {
        return storage.delete(key(storageName));
    }

    /** A recorded outcome with the name and names it was recorded for. */
    record Recorded(String name, List<String> domains, StoredCertificate.Outcome outcome) {
    }

    static String key(String storageName) {
        return PREFIX + storageName + SUFFIX;
    }
}
