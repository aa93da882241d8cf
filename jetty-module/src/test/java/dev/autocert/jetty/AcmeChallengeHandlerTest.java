package dev.autocert.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.Http01Tokens;
import dev.autocert.core.TestTokens;
import dev.autocert.testkit.HttpsProbe;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The challenge handler in a real Jetty on 127.0.0.1, asked by a plain HTTP client that sends paths as written. */
class AcmeChallengeHandlerTest {

    private static final String TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    private static final String KEY_AUTHORIZATION = TOKEN + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
    private static final String PREFIX = "/.well-known/acme-challenge/";

    private static final AtomicReference<Http01Tokens> TOKENS = new AtomicReference<>();
    /** The raw paths the application behind the handler saw. */
    private static final List<String> APPLICATION_SAW = new CopyOnWriteArrayList<>();
    private static Server server;
    /** A connector with Jetty's default URI compliance, which rejects some malformed paths itself. */
    private static int port;
    /** A connector that lets every malformed path through to the handlers, as a lenient configuration would. */
    private static int lenientPort;

    @BeforeAll
    static void startJetty() throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        HttpConfiguration lenientConfig = new HttpConfiguration();
        lenientConfig.setUriCompliance(UriCompliance.UNSAFE);
        ServerConnector lenient = new ServerConnector(server, new HttpConnectionFactory(lenientConfig));
        lenient.setHost("127.0.0.1");
        server.addConnector(lenient);
        AcmeChallengeHandler handler = new AcmeChallengeHandler(TOKENS::get);
        handler.setHandler(new Application());
        server.setHandler(handler);
        server.start();
        port = connector.getLocalPort();
        lenientPort = lenient.getLocalPort();
    }

    @AfterAll
    static void stopJetty() throws Exception {
        server.stop();
    }

    @BeforeEach
    void openOneChallenge() {
        TOKENS.set(TestTokens.with(TOKEN, KEY_AUTHORIZATION));
        APPLICATION_SAW.clear();
    }

    @Test
    void answersAKnownTokenWithItsKeyAuthorization() throws Exception {
        HttpsProbe.Response response = HttpsProbe.plain(port, "GET", PREFIX + TOKEN, "a.example.test");

        assertEquals(200, response.status());
        assertEquals(KEY_AUTHORIZATION, response.body());
        assertEquals("text/plain", response.header("content-type").split(";")[0]);
        assertEquals(List.of(), APPLICATION_SAW);
    }

    @Test
    void answersHeadWithHeadersOnly() throws Exception {
        HttpsProbe.Response response = HttpsProbe.plain(port, "HEAD", PREFIX + TOKEN, "a.example.test");

        assertEquals(200, response.status());
        assertEquals(String.valueOf(KEY_AUTHORIZATION.length()), response.header("content-length"));
        assertEquals("", response.body());
    }

    @Test
    void answersTheCurrentEnginesTokensOnly() throws Exception {
        TOKENS.set(TestTokens.with("another-token", "another-token.thumbprint"));
        assertPlainNotFound(HttpsProbe.plain(port, "GET", PREFIX + TOKEN, "a.example.test"));

        TOKENS.set(null); // no engine runs, as between a server's stop and start
        assertPlainNotFound(HttpsProbe.plain(port, "GET", PREFIX + "another-token", "a.example.test"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "unknownTokenXYZ",                        // not being validated
        "",                                       // the prefix alone
        TOKEN + "/extra",                         // a sub-path
        TOKEN + ".txt",                           // a character outside base64url
        "tok%41en",                               // percent-encoding; a CA never sends it
        "a%2Fb",                                  // an encoded slash
        "a%2fb",
        "..",                                     // dot segments
        "../" + TOKEN,
        "..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "%2e%2e%2f" + TOKEN,
        "has%20space",
        "%3Cscript%3E",
    })
    void answersEveryOtherChallengePathWithAPlain404(String token) throws Exception {
        assertPlainNotFound(HttpsProbe.plain(lenientPort, "GET", PREFIX + token, "a.example.test"));
        assertEquals(List.of(), APPLICATION_SAW, "the application must not see the challenge prefix");
    }

    /**
     * With Jetty's default URI compliance, encoded slashes, encoded dot segments and illegal
     * characters (even an encoded NUL under any compliance) never reach a handler: Jetty answers 400 itself, as it does on every path.
     * Either way, no key authorization and no application.
     */
    @ParameterizedTest
    @ValueSource(strings = {"a%2Fb", "..%2F..%2Fetc%2Fpasswd", "%2E%2E", "<script>", "A%00", "..", "unknown", "tok%41en"})
    void malformedPathsNeverReachTheApplicationWithDefaultUriCompliance(String token) throws Exception {
        HttpsProbe.Response response = HttpsProbe.plain(port, "GET", PREFIX + token, "a.example.test");

        assertTrue(response.status() == 404 || response.status() == 400, "status " + response.status());
        if (response.status() == 404) {
            assertEquals("", response.body());
        }
        assertFalse(response.body().contains(KEY_AUTHORIZATION));
        assertEquals(List.of(), APPLICATION_SAW);
    }

    @Test
    void answersATokenLongerThan256CharactersWithAPlain404() throws Exception {
        String longToken = "A".repeat(257);

        assertPlainNotFound(HttpsProbe.plain(port, "GET", PREFIX + longToken, "a.example.test"));
    }

    @Test
    void answersOtherMethodsOnAKnownTokenWithAPlain404() throws Exception {
        for (String method : List.of("POST", "PUT", "DELETE", "OPTIONS")) {
            assertPlainNotFound(HttpsProbe.plain(port, method, PREFIX + TOKEN, "a.example.test"));
        }
        assertEquals(List.of(), APPLICATION_SAW);
    }

    @Test
    void passesEveryOtherRequestThroughUntouched() throws Exception {
        for (String path : List.of("/", "/index.html", "/.well-known/other", "/.well-known/acme-challenge", "/x/.well-known/acme-challenge/" + TOKEN)) {
            HttpsProbe.Response response = HttpsProbe.plain(port, "GET", path, "a.example.test");

            assertEquals(200, response.status(), path);
            assertEquals("application saw " + path, response.body());
        }
        HttpsProbe.Response post = HttpsProbe.plain(port, "POST", "/form", "a.example.test");
        assertEquals("application saw /form", post.body());
    }

    /** A dot segment before the prefix is Jetty's to normalize; it never reaches the application as a challenge. */
    @Test
    void aPathThatOnlyNormalizesIntoThePrefixIsNotAChallenge() throws Exception {
        HttpsProbe.Response response = HttpsProbe.plain(port, "GET", "/x/.." + PREFIX + TOKEN, "a.example.test");

        assertFalse(response.status() == 200 && response.body().equals(KEY_AUTHORIZATION),
                "the raw path decides, so a key authorization is only served for the exact path");
    }

    private static void assertPlainNotFound(HttpsProbe.Response response) {
        assertEquals(404, response.status());
        assertEquals("", response.body(), "a 404 without detail");
        assertNull(response.header("content-type"), "no error page");
    }

    /** Stands for the application: answers every request with the raw path it saw. */
    private static final class Application extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = request.getHttpURI().getPath();
            APPLICATION_SAW.add(path);
            response.write(true, ByteBuffer.wrap(("application saw " + path).getBytes(StandardCharsets.UTF_8)), callback);
            return true;
        }
    }
}
