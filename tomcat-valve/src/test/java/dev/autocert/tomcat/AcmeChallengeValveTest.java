package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.Http01Tokens;
import dev.autocert.core.TestTokens;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The challenge valve on a real Tomcat, over raw HTTP so that request targets reach Tomcat as
 * written. The engine's default host names no host, as when server.xml's defaultHost is wrong.
 */
class AcmeChallengeValveTest {

    private static final String TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    private static final String KEY_AUTHORIZATION = TOKEN + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
    private static final String PATH = Http01Tokens.PATH_PREFIX + TOKEN;

    @TempDir
    static Path dir;

    private static TestTomcat server;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        port = TestTomcat.freePort();
        server = TestTomcat.plain(dir, port);
        Http01Tokens tokens = new Http01Tokens();
        TestTokens.put(tokens, TOKEN, KEY_AUTHORIZATION);
        AcmeChallengeValve valve = new AcmeChallengeValve(tokens);
        server.tomcat.getEngine().getPipeline().addValve(valve);
        server.start();
        server.tomcat.getEngine().setDefaultHost("no-such-host");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void answersCurrentChallengeWithKeyAuthorization() throws Exception {
        TestHttpClient.Response response = request("GET", PATH, "example.test");
        assertEquals(200, response.status());
        assertEquals(KEY_AUTHORIZATION, response.body());
        assertTrue(response.header("content-type").startsWith("text/plain"), response.header("content-type"));
    }

    @Test
    void answersHeadWithoutBody() throws Exception {
        TestHttpClient.Response response = request("HEAD", PATH, "example.test");
        assertEquals(200, response.status());
        assertEquals(String.valueOf(KEY_AUTHORIZATION.length()), response.header("content-length"));
        assertEquals("", response.body());
    }

    @Test
    void answersForHostsNoHostMatchesAndWithoutHostHeader() throws Exception {
        assertEquals(KEY_AUTHORIZATION, request("GET", PATH, "unknown.example.test").body());
        try (TestHttpClient.Connection connection = TestHttpClient.http(port)) {
            TestHttpClient.Response response = connection.request("GET " + PATH + " HTTP/1.0\r\n\r\n", false);
            assertEquals(200, response.status());
            assertEquals(KEY_AUTHORIZATION, response.body());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/.well-known/acme-challenge/unknownTokenXyz0123456789abcdefghijklmnopq",
        "/.well-known/acme-challenge/not$valid",
        "/.well-known/acme-challenge/abc.def",
        "/.well-known/acme-challenge/",
        "/.well-known/acme-challenge/../../WEB-INF/web.xml",
        "/.well-known/acme-challenge/x/../" + TOKEN,
        "/.well-known/acme-challenge/%2e%2e/" + TOKEN,
        "/.well-known/acme-challenge/x%2F" + TOKEN,
        "/.well-known/acme-challenge/" + TOKEN + "%2F",
        "/.well-known/acme-challenge/%65vaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
        "/.well-known/acme-challenge/" + TOKEN + ";jsessionid=1",
        "/.well-known/acme-challenge/" + TOKEN + "/more",
        "/.well-known/acme-challenge/%zz",
    })
    void answersBadRequestsWithPlainNotFound(String target) throws Exception {
        assertPlainNotFound(request("GET", target, "example.test"), target);
    }

    @Test
    void answersTooLongTokenWithPlainNotFound() throws Exception {
        String target = Http01Tokens.PATH_PREFIX + "a".repeat(257);
        assertPlainNotFound(request("GET", target, "example.test"), target);
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
    void answersOtherMethodsWithPlainNotFound(String method) throws Exception {
        assertPlainNotFound(request(method, PATH, "example.test"), method);
    }

    @Test
    void passesEveryOtherRequestToTheApplication() throws Exception {
        assertEquals("hello localhost /hello", request("GET", "/hello", "localhost").body());
        assertEquals("hello localhost /.well-known/acme-challenge", request("GET", "/.well-known/acme-challenge", "localhost").body());
        assertEquals("hello localhost /.well-known/other/" + TOKEN, request("GET", "/.well-known/other/" + TOKEN, "localhost").body());
        assertEquals("hello localhost /x" + PATH, request("POST", "/x" + PATH, "localhost").body());
    }

    @Test
    void keepsTheConnectionUsableAfterAnswering() throws Exception {
        try (TestHttpClient.Connection connection = TestHttpClient.http(port)) {
            assertEquals(404, connection.request("GET", Http01Tokens.PATH_PREFIX + "nope", "localhost").status());
            assertEquals(200, connection.request("GET", PATH, "localhost").status());
            assertEquals(404, connection.request("GET", Http01Tokens.PATH_PREFIX + "x%2Fy", "localhost").status());
            assertEquals("hello localhost /after", connection.request("GET", "/after", "localhost").body());
        }
    }

    @Test
    void answersNotFoundUntilConnected(@TempDir Path other) throws Exception {
        int otherPort = TestTomcat.freePort();
        try (TestTomcat unconnected = TestTomcat.plain(other, otherPort)) {
            unconnected.tomcat.getEngine().getPipeline().addValve(new AcmeChallengeValve());
            unconnected.start();
            try (TestHttpClient.Connection connection = TestHttpClient.http(otherPort)) {
                assertPlainNotFound(connection.request("GET", PATH, "localhost"), "unconnected");
                assertEquals(200, connection.request("GET", "/", "localhost").status());
            }
        }
    }

    private static TestHttpClient.Response request(String method, String target, String host) throws Exception {
        try (TestHttpClient.Connection connection = TestHttpClient.http(port)) {
            return connection.request(method, target, host);
        }
    }

    private static void assertPlainNotFound(TestHttpClient.Response response, String what) {
        assertEquals(404, response.status(), what);
        assertEquals("text/plain", response.header("content-type"), what);
        assertEquals("", response.body(), what);
        assertEquals("0", response.header("content-length"), what);
        assertFalse(response.body().contains(KEY_AUTHORIZATION), what);
    }
}
