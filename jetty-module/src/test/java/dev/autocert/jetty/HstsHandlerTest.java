package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.autocert.testkit.HttpsProbe;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code autocert.hsts} on embedded Jetty: real servers on 127.0.0.1 serving their placeholder
 * (the CA is unreachable), asked by TLS clients that trust exactly that placeholder.
 */
class HstsHandlerTest {

    private static final String A = "a.example.test";
    private static final String HSTS = "max-age=63072000; includeSubDomains";

    @TempDir
    Path storage;

    private Server server;

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void everyHttpsResponseCarriesTheHeaderAndNoPlainHttpResponseDoes() throws Exception {
        server = TestServers.httpsServer();
        server.setHandler(new Application());
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.unreachable(storage, A).set("hsts", HSTS).build());
        server.start();
        assertInstanceOf(HstsHandler.class, server.getHandler(), "in front of every handler");
        SSLContext placeholder = HttpsProbe.trusting(List.of(TestServers.served(autocert, A).certificate()));
        int port = TestServers.httpsPort(server);

        try (HttpsProbe.Connection connection = HttpsProbe.connect(placeholder, port, A)) {
            HttpsProbe.Response hello = connection.get("/");
            assertEquals("hello " + A, hello.body());
            assertEquals(HSTS, hello.header("strict-transport-security"));
            HttpsProbe.Response unhandled = connection.get("/unhandled");
            assertEquals(404, unhandled.status(), "Jetty's own 404");
            assertEquals(HSTS, unhandled.header("strict-transport-security"));
            HttpsProbe.Response own = connection.get("/own");
            assertEquals("max-age=60", own.header("strict-transport-security"), "the application's own value stays");
            HttpsProbe.Response challenge = connection.get("/.well-known/acme-challenge/unknown");
            assertEquals(404, challenge.status());
            assertEquals(HSTS, challenge.header("strict-transport-security"));
        }
        // Jetty's error page after a failure starts from empty headers, yet has it too.
        HttpsProbe.Response thrown = TestServers.https(placeholder, port, "GET", "/throw", A);
        assertEquals(500, thrown.status());
        assertEquals(HSTS, thrown.header("strict-transport-security"));
        HttpsProbe.Response failed = TestServers.https(placeholder, port, "GET", "/fail", A);
        assertEquals(500, failed.status());
        assertEquals(HSTS, failed.header("strict-transport-security"));

        int httpPort = autocert.addedHttpConnector().orElseThrow().getLocalPort();
        HttpsProbe.Response redirect = HttpsProbe.plain(httpPort, "GET", "/", A);
        assertEquals(308, redirect.status());
        assertNull(redirect.header("strict-transport-security"));
        HttpsProbe.Response plainChallenge = HttpsProbe.plain(httpPort, "GET", "/.well-known/acme-challenge/unknown", A);
        assertEquals(404, plainChallenge.status());
        assertNull(plainChallenge.header("strict-transport-security"));
    }

    @Test
    void withoutTheSettingNoResponseCarriesTheHeader() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty autocert = AutocertJetty.install(server, TestServers.unreachable(storage, A).build());
        server.start();
        assertInstanceOf(AcmeChallengeHandler.class, server.getHandler());
        SSLContext placeholder = HttpsProbe.trusting(List.of(TestServers.served(autocert, A).certificate()));

        try (HttpsProbe.Connection connection = HttpsProbe.connect(placeholder, TestServers.httpsPort(server), A)) {
            HttpsProbe.Response hello = connection.get("/");
            assertEquals("hello " + A, hello.body());
            assertNull(hello.header("strict-transport-security"));
        }
    }

    @Test
    void isInsertedOnceAcrossRestarts() throws Exception {
        server = TestServers.httpsServer();
        AutocertJetty.install(server, TestServers.unreachable(storage, A).set("hsts", "on").set("status-path", "/status").build());
        server.start();
        server.stop();
        server.start();

        assertEquals(1, server.getDescendants(HstsHandler.class).size());
        assertEquals(1, server.getDescendants(AcmeChallengeHandler.class).size());
        assertEquals(1, server.getDescendants(StatusPageHandler.class).size());
        assertEquals(1, server.getDescendants(HttpsRedirectHandler.class).size());
    }

    @Test
    void refusesABlankValueOrOneWithControlCharacters() {
        assertThrows(IllegalArgumentException.class, () -> new HstsHandler(" "));
        assertThrows(IllegalArgumentException.class, () -> new HstsHandler("max-age=1\r\nSet-Cookie: x=1"));
        assertEquals("max-age=31536000", new HstsHandler("max-age=31536000").value());
    }

    /** Stands for an application with every kind of answer. */
    private static final class Application extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            switch (Request.getPathInContext(request)) {
                case "/unhandled" -> {
                    return false;
                }
                case "/throw" -> throw new IllegalStateException("the application failed (expected by the test)");
                case "/fail" -> {
                    callback.failed(new IllegalStateException("the application failed (expected by the test)"));
                    return true;
                }
                case "/own" -> response.getHeaders().put(HttpHeader.STRICT_TRANSPORT_SECURITY, "max-age=60");
                default -> {
                }
            }
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=UTF-8");
            response.write(true, ByteBuffer.wrap(("hello " + Request.getServerName(request)).getBytes(StandardCharsets.UTF_8)), callback);
            return true;
        }
    }
}
