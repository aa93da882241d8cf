package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.Http01Tokens;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.realm.NullRealm;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A web application that guards everything, {@code /*} for all methods, with BASIC
 * authentication and a CONFIDENTIAL transport guarantee (so plain HTTP is redirected to HTTPS),
 * does not keep the CA from validating: the challenge valve answers before the application.
 */
class ProtectedWebappTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().build();

    private static final String NAME = "protected.example.test";

    @Test
    void validationPassesAuthenticationAndHttpsRedirect(@TempDir Path dir) throws Exception {
        try (TestTomcat server = TestTomcat.create(dir.resolve("tomcat"), PEBBLE.httpPort())) {
            protect(server);
            CertificateManager manager = AutocertTomcat.install(server.tomcat,
                    TestTomcat.settings(PEBBLE, dir.resolve("storage"), NAME).build());
            server.start();

            // The application's guards are in force, on HTTP and on HTTPS.
            try (TestHttpClient.Connection http = TestHttpClient.http(PEBBLE.httpPort())) {
                TestHttpClient.Response redirect = http.request("GET", "/page", NAME);
                assertEquals(302, redirect.status());
                assertEquals("https://" + NAME + ":" + server.httpsPort + "/page", redirect.header("location"));
                TestHttpClient.Response challenge = http.request("GET", Http01Tokens.PATH_PREFIX + "unknownToken", NAME);
                assertEquals(404, challenge.status(), "a challenge path is never redirected");
                assertEquals("", challenge.body());
            }

            KeyStore roots = PEBBLE.issuingTrustStore();
            X509Certificate issued = TestHttpClient.awaitVerified(server.httpsPort, NAME, roots);
            assertEquals(manager.certificate(NAME).orElseThrow().certificate(), issued);
            assertFalse(manager.certificate(NAME).orElseThrow().placeholder());

            try (TestHttpClient.Connection https = TestHttpClient.https(server.httpsPort, NAME, roots)) {
                TestHttpClient.Response denied = https.request("GET", "/page", NAME);
                assertEquals(401, denied.status());
                assertTrue(denied.header("www-authenticate").startsWith("Basic"), denied.header("www-authenticate"));
            }
        }
    }

    private static void protect(TestTomcat server) {
        SecurityCollection everything = new SecurityCollection("everything", null);
        everything.addPattern("/*");
        SecurityConstraint constraint = new SecurityConstraint();
        constraint.addCollection(everything);
        constraint.addAuthRole("admin");
        constraint.setUserConstraint("CONFIDENTIAL");
        server.root.addConstraint(constraint);
        server.root.addSecurityRole("admin");
        server.root.setLoginConfig(new LoginConfig("BASIC", "protected", null, null));
        server.root.getPipeline().addValve(new BasicAuthenticator());
        server.root.setRealm(new NullRealm()); // nobody gets in
    }
}
