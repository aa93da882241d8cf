package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code autocert.status-path} on an embedded Tomcat set up by {@link AutocertTomcat#install}. */
class StatusValveTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String NAME = "status.example.test";
    private static final String PATH = "/autocert-status";

    @Test
    void answersTheStatusPageOnHttpsBeforeTheApplication(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME)
                .set("status-path", PATH).set("hsts", "on").build();
        try (TestTomcat server = TestTomcat.httpsOnly(dir.resolve("tomcat"))) {
            CertificateManager manager = AutocertTomcat.install(server.tomcat, settings);
            List<Class<?>> valves = Arrays.stream(server.tomcat.getEngine().getPipeline().getValves())
                    .<Class<?>>map(Object::getClass).filter(c -> c.getPackageName().equals("dev.autocert.tomcat")).toList();
            assertEquals(List.of(AcmeChallengeValve.class, HstsValve.class, StatusValve.class, HttpsRedirectValve.class), valves);
            server.start();

            KeyStore roots = PEBBLE.issuingTrustStore();
            X509Certificate served = TestHttpClient.awaitVerified(server.httpsPort, NAME, roots);
            CertifiedKey issued = manager.certificate(NAME).orElseThrow();
            assertEquals(issued.certificate(), served);
            try (TestHttpClient.Connection https = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                TestHttpClient.Response page = https.request("GET", PATH, NAME);
                assertEquals(200, page.status(), page.body());
                assertEquals("application/json", page.header("content-type"));
                assertEquals("no-store", page.header("cache-control"));
                assertEquals("max-age=31536000", page.header("strict-transport-security"));
                assertTrue(page.body().startsWith("{\"status\":\"UP\","), page.body());
                assertTrue(page.body().contains("\"name\":\"" + NAME + "\""), page.body());
                assertTrue(page.body().contains("\"placeholder\":false"), page.body());
                assertTrue(page.body().contains("\"serial\":\"" + served.getSerialNumber().toString(16) + "\""), page.body());
                assertFalse(page.body().toUpperCase(java.util.Locale.ROOT).contains("PRIVATE"), page.body());

                TestHttpClient.Response withQuery = https.request("GET", PATH + "?refresh=1", NAME);
                assertEquals(200, withQuery.status());
                assertTrue(withQuery.body().contains("\"name\":\"" + NAME + "\""), withQuery.body());

                TestHttpClient.Response head = https.request("HEAD", PATH, NAME);
                assertEquals(200, head.status());
                assertEquals("application/json", head.header("content-type"));
                assertEquals("", head.body());

                TestHttpClient.Response post = https.request("POST", PATH, NAME);
                assertEquals(405, post.status());
                assertEquals("GET, HEAD", post.header("allow"));
                assertEquals("", post.body());

                // Only the exact path is Autocert's; the application keeps everything else.
                assertEquals("hello " + NAME + " " + PATH + "/", https.request("GET", PATH + "/", NAME).body());
                assertEquals("hello " + NAME + " " + PATH + "x", https.request("GET", PATH + "x", NAME).body());
            }
            // Plain HTTP never shows the page: the added connector redirects it, without HSTS.
            try (TestHttpClient.Connection http = TestHttpClient.http(PEBBLE.httpPort())) {
                TestHttpClient.Response redirect = http.request("GET", PATH, NAME);
                assertEquals(308, redirect.status());
                assertEquals("https://" + NAME + ":" + server.httpsPort + PATH, redirect.header("location"));
                assertNull(redirect.header("strict-transport-security"));
            }
        }
    }

    @Test
    void withoutTheSettingThePathBelongsToTheApplication(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).build();
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            AutocertTomcat.install(server.tomcat, settings);
            server.start();
            assertFalse(Arrays.stream(server.tomcat.getEngine().getPipeline().getValves())
                    .anyMatch(v -> v instanceof StatusValve || v instanceof HstsValve));
            KeyStore roots = PEBBLE.issuingTrustStore();
            TestHttpClient.awaitVerified(server.httpsPort, NAME, roots);
            try (TestHttpClient.Connection https = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                TestHttpClient.Response response = https.request("GET", PATH, NAME);
                assertEquals(200, response.status());
                assertEquals("hello " + NAME + " " + PATH, response.body());
                assertNull(response.header("strict-transport-security"));
            }
        }
    }
}
