package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.Http01Tokens;
import dev.autocert.testkit.PebbleServer;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyStore;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code autocert.hsts} on an embedded Tomcat set up by {@link AutocertTomcat#install}. */
class HstsValveTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String NAME = "hsts.example.test";
    private static final String VALUE = "max-age=63072000; includeSubDomains";

    @Test
    void everyHttpsResponseCarriesTheHeaderAndNoPlainOne(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).set("hsts", VALUE).build();
        try (TestTomcat server = TestTomcat.httpsOnly(dir.resolve("tomcat"))) {
            Tomcat.addServlet(server.root, "missing", new HttpServlet() {
                @Override
                protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                    response.sendError(HttpServletResponse.SC_NOT_FOUND);
                }
            });
            server.root.addServletMappingDecoded("/missing", "missing");
            Tomcat.addServlet(server.root, "reset", new HttpServlet() {
                @Override
                protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                    response.setHeader("X-Before", "reset");
                    response.reset();
                    response.setContentType("text/plain");
                    response.getWriter().write("after reset");
                }
            });
            server.root.addServletMappingDecoded("/reset", "reset");
            AutocertTomcat.install(server.tomcat, settings);
            server.start();

            KeyStore roots = PEBBLE.issuingTrustStore();
            TestHttpClient.awaitVerified(server.httpsPort, NAME, roots);
            try (TestHttpClient.Connection https = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                TestHttpClient.Response page = https.request("GET", "/page", NAME);
                assertEquals("hello " + NAME + " /page", page.body());
                assertEquals(VALUE, page.header("strict-transport-security"));

                TestHttpClient.Response missing = https.request("GET", "/missing", NAME);
                assertEquals(404, missing.status());
                assertEquals(VALUE, missing.header("strict-transport-security"), "on Tomcat's error page");

                TestHttpClient.Response reset = https.request("GET", "/reset", NAME);
                assertEquals("after reset", reset.body());
                assertNull(reset.header("x-before"));
                assertEquals(VALUE, reset.header("strict-transport-security"), "after the application's reset()");
            }
            // A request Tomcat itself rejects still gets its 400 page over HTTPS with the header.
            try (TestHttpClient.Connection https = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                TestHttpClient.Response rejected = https.request("GET", "/%zz", NAME);
                assertEquals(400, rejected.status());
                assertEquals(VALUE, rejected.header("strict-transport-security"));
            }
            try (TestHttpClient.Connection http = TestHttpClient.http(PEBBLE.httpPort())) {
                TestHttpClient.Response redirect = http.request("GET", "/page", NAME);
                assertEquals(308, redirect.status());
                assertNull(redirect.header("strict-transport-security"));
                TestHttpClient.Response challenge = http.request("GET", Http01Tokens.PATH_PREFIX + "unknownToken", NAME);
                assertEquals(404, challenge.status());
                assertNull(challenge.header("strict-transport-security"));
            }
        }
    }

    @Test
    void withoutTheSettingNoResponseCarriesTheHeader(@TempDir Path dir) throws Exception {
        AutocertSettings settings = TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).set("hsts", "off").build();
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            AutocertTomcat.install(server.tomcat, settings);
            server.start();
            KeyStore roots = PEBBLE.issuingTrustStore();
            TestHttpClient.awaitVerified(server.httpsPort, NAME, roots);
            try (TestHttpClient.Connection https = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                TestHttpClient.Response page = https.request("GET", "/page", NAME);
                assertEquals("hello " + NAME + " /page", page.body());
                assertNull(page.header("strict-transport-security"));
            }
        }
    }
}
