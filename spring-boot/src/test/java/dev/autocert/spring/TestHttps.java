package dev.autocert.spring;

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
 * Real HTTP/1.1 clients for the tests, to 127.0.0.1 only: a plain one, and a TLS one that sends
 * a chosen SNI name and checks the served chain against a trust store (PKIX, no trust-all) and
 * the certificate's names against the host name (endpoint identification "HTTPS"), as a browser
 * does. Names like {@code www.example.test} need no DNS: the socket connects to 127.0.0.1.
 */
final class TestHttps {

    private static final int TIMEOUT_MILLIS = 10_000;

    private TestHttps() {
    }

    /** One response: status, headers (lower-case names) and body. */
    record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** An SSL context trusting exactly the roots in {@code trustStore}. */
    static SSLContext trusting(KeyStore trustStore) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(trustStore);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    /** Sends one request on a new plain connection to 127.0.0.1:{@code port}. */
    static Response plain(int port, String method, String target, String host) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            write(socket.getOutputStream(), method, target, host, true);
            return read(new BufferedInputStream(socket.getInputStream()), "HEAD".equals(method));
        }
    }

    /**
     * Opens a TLS connection to 127.0.0.1:{@code port} with SNI {@code host}; the handshake fails
     * unless the served certificate chains to {@code context}'s trust and covers {@code host}.
     */
    static Connection connect(SSLContext context, int port, String host) throws IOException {
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
            plain.setSoTimeout(TIMEOUT_MILLIS);
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            parameters.setServerNames(List.of(new SNIHostName(host)));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return new Connection(socket, host);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    /**
     * Connects again and again until the server serves the certificate with {@code serial} for
     * {@code host}, verified as in {@link #connect}, and returns that connection.
     *
     * @throws AssertionError when that does not happen within {@code timeout}, with the last failure
     */
    static Connection awaitServed(SSLContext context, int port, String host, String serial, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "nothing tried";
        while (System.nanoTime() < deadline) {
            Connection connection = null;
            try {
                connection = connect(context, port, host);
                String served = connection.served().getSerialNumber().toString(16);
                if (served.equals(serial)) {
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
        throw new AssertionError("Within " + timeout + ", 127.0.0.1:" + port + " never served " + host + " serial " + serial
                + " verified against Pebble's root; last: " + last);
    }

    /** A kept-alive HTTPS connection; requests go one after another. */
    static final class Connection implements AutoCloseable {
        private final SSLSocket socket;
        private final String host;
        private final InputStream in;

        private Connection(SSLSocket socket, String host) throws IOException {
            this.socket = socket;
            this.host = host;
            this.in = new BufferedInputStream(socket.getInputStream());
        }

        /** The certificate the server chose for this connection. */
        X509Certificate served() throws IOException {
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }

        /** Sends {@code GET path} with the connection's host name and reads the response. */
        Response get(String path) throws IOException {
            write(socket.getOutputStream(), "GET", path, host, false);
            return read(in, false);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void write(OutputStream out, String method, String target, String host, boolean close) throws IOException {
        String request = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n"
                + (close ? "Connection: close\r\n" : "") + "\r\n";
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static Response read(InputStream in, boolean head) throws IOException {
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
            } else if ("close".equalsIgnoreCase(headers.get("connection"))) {
                body.write(in.readAllBytes());
            }
        }
        return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    private static int chunkSize(String line) {
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
