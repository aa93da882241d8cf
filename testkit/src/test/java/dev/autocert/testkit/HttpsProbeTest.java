package dev.autocert.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The probe against Pebble's own HTTPS listener, whose certificate covers {@code localhost}. */
class HttpsProbeTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static int port() {
        return PEBBLE.directoryUrl().getPort();
    }

    @Test
    void readsWhatTheServerServesAndAnswers() throws Exception {
        try (HttpsProbe.Connection connection = HttpsProbe.connect(PEBBLE.trustContext(), port(), "localhost")) {
            assertTrue(connection.served().getSubjectX500Principal().getName().contains("localhost")
                    || connection.served().getSubjectAlternativeNames().toString().contains("localhost"));
            HttpsProbe.Response directory = connection.get("/dir");
            assertEquals(200, directory.status());
            assertTrue(directory.header("Content-Type").startsWith("application/json"), directory.headers().toString());
            assertTrue(directory.body().contains("newOrder"), directory.body());
            assertEquals(200, connection.get("/dir").status(), "the connection is kept alive");
            assertTrue(connection.isOpen());
        }
    }

    @Test
    void refusesACertificateThatDoesNotChainToTheGivenRoots() {
        assertThrows(SSLHandshakeException.class, () -> HttpsProbe.connect(
                HttpsProbe.trusting(PEBBLE.issuingTrustStore()), port(), "localhost").close());
    }

    @Test
    void refusesACertificateThatDoesNotCoverTheName() {
        assertThrows(SSLHandshakeException.class,
                () -> HttpsProbe.connect(PEBBLE.trustContext(), port(), "www.example.test").close());
    }

    @Test
    void awaitServedNamesWhatWasServedInstead() {
        AssertionError e = assertThrows(AssertionError.class, () -> HttpsProbe.awaitServed(PEBBLE.trustContext(), port(),
                "localhost", "0", Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("served serial"), e.getMessage());
    }
}
