package dev.autocert.testkit;

import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLS client for tests that asks what a server on 127.0.0.1 really serves: which certificate
 * it presents for a name (SNI), whether that certificate chains to given roots and covers the
 * name (PKIX and endpoint identification, as a browser checks; no trust-all), and what HTTP
 * answers come back on the connection. Plain HTTP requests too, for challenge and redirect tests.
 *
 * <pre>{@code
 * SSLContext pebbleRoots = HttpsProbe.trusting(PEBBLE.issuingTrustStore());
 * try (HttpsProbe.Connection connection = HttpsProbe.awaitServed(pebbleRoots, httpsPort,
 *         "www.example.test", expectedSerialHex, Duration.ofSeconds(60))) {
 *     assertEquals(200, connection.get("/").status());
 * }
 * }</pre>
 *
 * <p>HTTP/1.1 only, one request at a time per connection; every socket has a 10-second timeout.
 * Thread-safe (stateless); a {@link Connection} is for one thread.
 */
public final class HttpsProbe {

    private static final int TIMEOUT_MILLIS = 10_000;

    private HttpsProbe() {
    }

    /**
     * One HTTP response.
     *
     * @param status  the status code
     * @param headers the headers, names in lower case
     * @param body    the body, decoded as UTF-8 (chunked bodies are joined)
     */
    public record Response(int status, Map<String, String> headers, String body) {

        public Response {
            headers = Map.copyOf(headers);
            requireNonNull(body, "body");
        }

        /** The value of header {@code name} (any case), or null. */
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** An SSL context trusting exactly the certificates in {@code roots}, such as {@code PebbleServer.issuingTrustStore()}. */
    public static SSLContext trusting(KeyStore roots) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(roots);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    /** An SSL context trusting exactly {@code certificates}, such as a self-signed placeholder served on purpose. */
    public static SSLContext trusting(List<X509Certificate> certificates) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < certificates.size(); i++) {
            store.setCertificateEntry("trusted-" + i, certificates.get(i));
        }
        return trusting(store);
    }

    /** Sends one request on a new plain connection to 127.0.0.1:{@code port} and reads the response. */
    public static Response plain(int port, String method, String target, String host) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            write(socket.getOutputStream(), method, target, host, true, Map.of());
            return read(new BufferedInputStream(socket.getInputStream()), "HEAD".equals(method), true);
        }
    }

    /**
     * Opens a TLS connection to 127.0.0.1:{@code port} with SNI {@code host}; the handshake fails
     * unless the served certificate chains to {@code context}'s trust and covers {@code host}.
     */
    public static Connection connect(SSLContext context, int port, String host) throws IOException {
        return connect(context, port, host, host);
    }

    /**
     * Opens a TLS connection to 127.0.0.1:{@code port} sending {@code sni} as the server name
     * (none when null); the handshake fails unless the served certificate chains to
     * {@code context}'s trust and covers {@code verifiedHost}.
     */
    public static Connection connect(SSLContext context, int port, String sni, String verifiedHost) throws IOException {
        requireNonNull(verifiedHost, "verifiedHost");
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
            plain.setSoTimeout(TIMEOUT_MILLIS);
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, verifiedHost, port, true);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return new Connection(socket, verifiedHost);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    /**
     * Connects again and again until the server serves the certificate with serial
     * {@code serialHex} (lower-case hex) for {@code host}, verified as by
     * {@link #connect(SSLContext, int, String)}, and returns that connection.
     *
     * @throws AssertionError when that does not happen within {@code timeout}, naming the last failure
     */
    public static Connection awaitServed(SSLContext context, int port, String host, String serialHex, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "nothing tried";
        while (System.nanoTime() < deadline) {
            Connection connection = null;
            try {
                connection = connect(context, port, host);
                String served = connection.served().getSerialNumber().toString(16);
                if (served.equals(serialHex)) {
                    return connection;
                }
                last = "served serial " + served;
            } catch (IOException e) {
                last = e.toString();
            }
            if (connection != null) {
                connection.close();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("Within " + timeout + ", 127.0.0.1:" + port + " never served " + host + " serial "
                + serialHex + " verified against the given roots; last: " + last);
    }

    /** A kept-alive HTTPS connection; requests go one after another. */
    public static final class Connection implements AutoCloseable {
        private final SSLSocket socket;
        private final String host;
        private final InputStream in;

        private Connection(SSLSocket socket, String host) throws IOException {
            this.socket = socket;
            this.host = host;
            this.in = new BufferedInputStream(socket.getInputStream());
        }

        /** The certificate the server chose for this connection. */
        public X509Certificate served() throws IOException {
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }

        /** The TLS session's id, the same for as long as the connection lives. */
        public byte[] sessionId() {
            return socket.getSession().getId();
        }

        /** Sends {@code GET path} with the verified host name as {@code Host} and reads the response. */
        public Response get(String path) throws IOException {
            return get(path, host);
        }

        /** Sends {@code GET path} with {@code Host: host} and reads the response; the connection stays open. */
        public Response get(String path, String host) throws IOException {
            write(socket.getOutputStream(), "GET", path, host, false, Map.of());
            return read(in, false, false);
        }

        /** Sends {@code GET path} with the verified host name and these header fields, and reads the response. */
        public Response get(String path, Map<String, String> headers) throws IOException {
            write(socket.getOutputStream(), "GET", path, host, false, headers);
            return read(in, false, false);
        }

        /** Whether the connection is still open on this side. */
        public boolean isOpen() {
            return !socket.isClosed();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void write(OutputStream out, String method, String target, String host, boolean close,
            Map<String, String> headers) throws IOException {
        StringBuilder fields = new StringBuilder();
        headers.forEach((name, value) -> fields.append(name).append(": ").append(value).append("\r\n"));
        String request = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + fields
                + (close ? "Connection: close\r\n" : "") + ("POST".equals(method) ? "Content-Length: 0\r\n" : "") + "\r\n";
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static Response read(InputStream in, boolean head, boolean closing) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) {
            throw new IOException("The server closed the connection without a response");
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new TreeMap<>();
        for (String line = line(in); line != null && !line.isEmpty(); line = line(in)) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (!head && status != 204 && status != 304) {
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                for (int size = chunkSize(line(in)); size > 0; size = chunkSize(line(in))) {
                    body.write(in.readNBytes(size));
                    line(in);
                }
                line(in);
            } else if (headers.containsKey("content-length")) {
                body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
            } else if (closing || "close".equalsIgnoreCase(headers.get("connection"))) {
                body.write(in.readAllBytes()); // the body ends with the connection
            }
        }
        return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    private static int chunkSize(String line) throws IOException {
        if (line == null) {
            throw new IOException("The server closed the connection inside a chunked body");
        }
        return Integer.parseInt(line.split(";")[0].trim(), 16);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != -1; c = in.read()) {
            if (c == '\n') {
                int end = line.length();
                return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
            }
            line.append((char) c);
        }
        return line.length() == 0 ? null : line.toString();
    }
}
