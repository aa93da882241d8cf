package dev.autocert.jetty;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.HttpsProbe;
import dev.autocert.testkit.PebbleServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/** Real Jetty servers on 127.0.0.1 for the tests, and settings that point Autocert at a test's CA. */
final class TestServers {

    /** A directory URL where nothing listens: every order fails at once, and placeholders keep serving. */
    static final String UNREACHABLE_CA = "https://127.0.0.1:1/dir";

    private TestServers() {
    }

    /**
     * A server with one HTTPS connector on 127.0.0.1 and a free port, its HTTP configuration
     * with Jetty's default {@link SecureRequestCustomizer} (SNI host check on), and a handler
     * answering {@code hello HOST}. Nothing is started.
     */
    static Server httpsServer() {
        Server server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer());
        ServerConnector https = new ServerConnector(server,
                new SslConnectionFactory(new SslContextFactory.Server(), "http/1.1"), new HttpConnectionFactory(config));
        https.setHost("127.0.0.1");
        server.addConnector(https);
        server.setHandler(new Hello());
        return server;
    }

    /**
     * A server like {@link #httpsServer()} whose HTTPS connector speaks HTTP/2 and HTTP/1.1, chosen
     * by ALPN ({@code h2} first, HTTP/1.1 for clients that offer neither), as Jetty's {@code http2}
     * module sets it up. Nothing is started.
     */
    static Server http2Server() {
        Server server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer());
        HttpConnectionFactory http = new HttpConnectionFactory(config);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory("h2", "http/1.1");
        alpn.setDefaultProtocol(http.getProtocol());
        ServerConnector https = new ServerConnector(server, new SslConnectionFactory(new SslContextFactory.Server(), alpn.getProtocol()),
                alpn, new HTTP2ServerConnectionFactory(config), http);
        https.setHost("127.0.0.1");
        server.addConnector(https);
        server.setHandler(new Hello());
        return server;
    }

    /** The local port of the server's first HTTPS connector. */
    static int httpsPort(Server server) {
        for (var connector : server.getConnectors()) {
            if (connector.getConnectionFactory(SslConnectionFactory.class) != null) {
                return ((NetworkConnector) connector).getLocalPort();
            }
        }
        throw new IllegalStateException("no HTTPS connector");
    }

    /** Settings for Pebble, with real HTTP-01 validation through the server's challenge handler. */
    static AutocertSettings.Builder pebble(PebbleServer pebble, Path storage, String domains) {
        return AutocertSettings.builder()
                .properties(pebble.autocertProperties())
                .domains(domains)
                .email("admin@example.test")
                .storage(storage);
    }

    /** Settings whose orders all fail, on a free HTTP port. */
    static AutocertSettings.Builder unreachable(Path storage, String domains) throws IOException {
        return AutocertSettings.builder()
                .domains(domains)
                .ca(UNREACHABLE_CA)
                .httpPort(freePort())
                .storage(storage);
    }

    /** Settings that wait for real certificates at start, so a started server serves them. */
    static AutocertSettings waitingFor(AutocertSettings.Builder settings) {
        return settings.set("startup-wait", "60s").build();
    }

    /**
     * Sends one request with any method on a new TLS connection to 127.0.0.1:{@code port}, SNI and
     * verified host name {@code host} (for what {@link HttpsProbe.Connection#get} cannot send), and
     * reads the response up to the end of the connection ({@code Connection: close}).
     */
    static HttpsProbe.Response https(SSLContext trust, int port, String method, String target, String host) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
            plain.setSoTimeout(10_000);
            SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket(plain, host, port, true);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            parameters.setServerNames(List.of(new SNIHostName(host)));
            socket.setSSLParameters(parameters);
            socket.getOutputStream().write((method + " " + target + " HTTP/1.1\r\nHost: " + host
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            String[] parts = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\r\n\r\n", 2);
            List<String> head = parts[0].lines().toList();
            Map<String, String> headers = new TreeMap<>();
            for (String line : head.subList(1, head.size())) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
            return new HttpsProbe.Response(Integer.parseInt(head.get(0).split(" ")[1]), headers, parts.length > 1 ? parts[1] : "");
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** The served certificate named {@code name}. */
    static CertifiedKey served(AutocertJetty autocert, String name) {
        return autocert.certificates().stream().filter(k -> k.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("not served: " + name + " in " + autocert.certificates()));
    }

    /** Every event an engine published, in order. */
    static final class Events {
        final List<CertificateEvent> all = new CopyOnWriteArrayList<>();

        List<String> describe() {
            return all.stream().map(e -> e.type() + " " + e.name()).toList();
        }
    }

    static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** Stands for the application: {@code hello HOST}. */
    static final class Hello extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=UTF-8");
            byte[] body = ("hello " + Request.getServerName(request)).getBytes(StandardCharsets.UTF_8);
            response.write(true, ByteBuffer.wrap(body), callback);
            return true;
        }
    }
}
