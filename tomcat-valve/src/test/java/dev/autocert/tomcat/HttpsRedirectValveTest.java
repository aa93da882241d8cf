package dev.autocert.tomcat;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The redirect on the challenge connector, in a real Tomcat with a second, ordinary connector. */
class HttpsRedirectValveTest {

    @TempDir
    Path baseDir;

    private Tomcat tomcat;
    private Connector plain;
    private Connector other;
    private final AtomicInteger httpsPort = new AtomicInteger(8443);

    @BeforeEach
    void start() throws Exception {
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        plain = connector();
        other = connector();
        tomcat.getService().addConnector(plain);
        tomcat.getService().addConnector(other);
        Context context = tomcat.addContext("", baseDir.toString());
        Tomcat.addServlet(context, "hello", new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.getWriter().write("hello");
            }
        });
        context.addServletMappingDecoded("/*", "hello");
        tomcat.getEngine().getPipeline().addValve(new HttpsRedirectValve(plain, httpsPort::get));
        tomcat.start();
    }

    private static Connector connector() {
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        return connector;
    }

    @AfterEach
    void stop() throws Exception {
        tomcat.stop();
        tomcat.destroy();
    }

    @Test
    void redirectsEverythingOnItsConnectorToTheSameUrlOverHttps() throws IOException {
        String response = get(plain, "/shop/cart?item=42&x=%20y", "www.example.test");
        assertTrue(response.startsWith("HTTP/1.1 308"), response);
        assertTrue(response.contains("\nLocation: https://www.example.test:8443/shop/cart?item=42&x=%20y\r\n"), response);
        assertTrue(response.contains("\nContent-Length: 0\r\n"), response);
    }

    @Test
    void leavesThePortOutForTheDefaultHttpsPort() throws IOException {
        httpsPort.set(443);
        String response = get(plain, "/", "example.test:80");
        assertTrue(response.contains("\nLocation: https://example.test/\r\n"), response);
    }

    @Test
    void passesRequestsOnOtherConnectorsThrough() throws IOException {
        String response = get(other, "/shop/cart", "www.example.test");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.endsWith("hello"), response);
    }

    @Test
    void passesChallengeRequestsThroughWhereverTheChallengeValveStands() throws IOException {
        // Here no challenge valve follows, so the application answers: what matters is no redirect.
        String response = get(plain, "/.well-known/acme-challenge/abc", "www.example.test");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.endsWith("hello"), response);
    }

    /** Requests Tomcat rejects before any valve runs; it still passes them through the engine for its error page. */
    @ParameterizedTest
    @ValueSource(strings = {
        "GET /%2e%2e/ HTTP/1.1\r\nHost: example.test",
        "GET /a/../../etc/passwd HTTP/1.1\r\nHost: example.test",
        "GET /%zz HTTP/1.1\r\nHost: example.test",
        "GET /a%2Fb HTTP/1.1\r\nHost: example.test",
        "GET /a%00b HTTP/1.1\r\nHost: example.test",
        "GET /{x} HTTP/1.1\r\nHost: example.test",
        "GET / HTTP/1.1\r\nHost: bad host!",
        "GET / HTTP/1.1\r\nHost: [::1",
        "GET / HTTP/1.1\r\nHost: a.example.test\r\nHost: b.example.test",
        "GET / HTTP/1.1",
        "GET http://[garbage/ HTTP/1.1\r\nHost: example.test",
        "GET http://exa%mple/ HTTP/1.1\r\nHost: example.test",
        "GET http://other.example.test/x HTTP/1.1\r\nHost: example.test",
        "GET ftp://example.test/x HTTP/1.1\r\nHost: example.test",
        "GET foo HTTP/1.1\r\nHost: example.test",
        "GET * HTTP/1.1\r\nHost: example.test",
        "G@T / HTTP/1.1\r\nHost: example.test",
        "GET / HTTP/1.1\r\nHost: example.test\r\nContent-Length: x",
    })
    void answersRequestsTomcatRejectsWith400NotARedirect(String request) throws IOException {
        String head = request + "\r\n";
        String response = send(plain, head);
        assertTrue(response.startsWith("HTTP/1.1 400 "), response);
        assertFalse(response.contains("\nLocation:"), response);
        assertFalse(response.endsWith("hello"), "the application saw it: " + response);
        // The same request on an ordinary connector gets the same answer.
        assertTrue(send(other, head).startsWith("HTTP/1.1 400 "));
    }

    private static String get(Connector connector, String target, String host) throws IOException {
        return send(connector, "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n");
    }

    /** Sends {@code head}, a request line and headers as written (each line ending in CRLF), and reads the whole response. */
    private static String send(Connector connector, String head) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), connector.getLocalPort()), 5000);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write((head + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertFalse(response.isEmpty(), "no response");
            return response;
        }
    }
}
