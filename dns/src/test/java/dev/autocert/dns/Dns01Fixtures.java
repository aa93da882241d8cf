package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.fail;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateListener;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/** What the DNS-01 tests that run the engine against Pebble share: settings, credentials files, events, chains. */
final class Dns01Fixtures {

    /** How long an issuance through Pebble may take. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Dns01Fixtures() {
    }

    /**
     * Settings for DNS-01 through {@code rfc2136} with the credentials file {@code credentials}, checking propagation at
     * {@code resolver} (a test DNS server: its port is not 53).
     */
    static AutocertSettings.Builder rfc2136Settings(PebbleServer pebble, Path storage, String domains, Path credentials,
            String resolver) {
        return AutocertSettings.builder()
                .properties(pebble.autocertProperties())
                .properties(Map.of(
                        "autocert.challenges", "dns-01",
                        "autocert.dns-provider", "rfc2136",
                        "autocert.dns-credentials", credentials.toString(),
                        "autocert.dns-propagation-check", "resolvers",
                        "autocert.dns-resolvers", resolver,
                        "autocert.dns-polling-interval", "PT0.2S",
                        "autocert.dns-propagation-timeout", "20s"))
                .domains(domains)
                .email("admin@example.test")
                .storage(storage);
    }

    /** Writes a credentials file with mode 0600, replacing it atomically as an operator's tool would. */
    static Path writeCredentials(Path file, String text) throws IOException {
        Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), ".credentials", ".tmp");
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(temporary, text, StandardCharsets.UTF_8);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /** Checks that {@code chain} leads from its first certificate to {@code root}. */
    static void verifyChain(List<X509Certificate> chain, X509Certificate root) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        List<X509Certificate> path = chain.stream().filter(c -> !c.equals(root)).toList();
        CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(path), parameters);
    }

    /** {@return the DNS names of a certificate's subject alternative name extension, sorted} */
    static List<String> dnsNames(X509Certificate certificate) throws Exception {
        List<String> names = new ArrayList<>();
        for (List<?> entry : certificate.getSubjectAlternativeNames()) {
            if (Integer.valueOf(2).equals(entry.get(0))) {
                names.add((String) entry.get(1));
            }
        }
        return names.stream().sorted().toList();
    }

    /** Records an engine's events and waits for the ones a test expects. */
    static final class Events implements CertificateListener {

        private final List<CertificateEvent> events = new ArrayList<>();

        @Override
        public synchronized void onEvent(CertificateEvent event) {
            events.add(event);
            notifyAll();
        }

        synchronized List<CertificateEvent> all() {
            return List.copyOf(events);
        }

        /** Waits for the first event of {@code type} for {@code name}. */
        CertificateEvent await(CertificateEvent.Type type, String name, Duration timeout) throws InterruptedException {
            return await(e -> e.type() == type && e.name().equals(name), timeout);
        }

        synchronized CertificateEvent await(Predicate<CertificateEvent> matching, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                for (CertificateEvent event : events) {
                    if (matching.test(event)) {
                        return event;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("Waited " + timeout + " for an event; got " + describe());
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }

        private List<String> describe() {
            return events.stream().map(e -> e.type() + " " + e.name() + e.cause().map(c -> " (" + c.getMessage() + ")").orElse(""))
                    .toList();
        }
    }
}
