package dev.autocert.jetty;

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
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
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
 * Real HTTP/1.1 clients for the tests, on 127.0.0.1 only: a plain one that sends the request
 * target byte for byte (no normalization, so malformed paths reach the server as written), and
 * a TLS one that sends a chosen SNI name, checks the served chain against a given trust store
 * and the certificate's names against a given host name (endpoint identification "HTTPS").
 */
final class TestHttp {

    private static final int TIMEOUT_MILLIS = 10_000;

    private TestHttp() {
    }

    /** One response: status, headers (lower-case names) and body. */
    record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** Sends one request on a new plain connection to 127.0.0.1:{@code port} and reads the response. */
    static Response plain(int port, String method, String target, String host) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            write(socket.getOutputStream(), method, target, host, true);
            return read(new BufferedInputStream(socket.getInputStream()), "HEAD".equals(method));
        }
    }

    /** An SSL context trusting exactly {@code roots} (PKIX path validation, no trust-all). */
    static SSLContext trusting(KeyStore roots) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(roots);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    /** An SSL context trusting exactly {@code certificates}, such as a placeholder served on purpose. */
    static SSLContext trusting(List<X509Certificate> certificates) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < certificates.size(); i++) {
            store.setCertificateEntry("trusted-" + i, certificates.get(i));
        }
        return trusting(store);
    }

    /**
     * Opens a TLS connection to 127.0.0.1:{@code port}, sending {@code sni} as the server name
     * (none when null), and checks that the served certificate chains to {@code context}'s trust
     * and covers {@code verifiedHost}. The handshake fails otherwise.
     */
    static TlsConnection tls(SSLContext context, int port, String sni, String verifiedHost) throws IOException {
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
            return new TlsConnection(socket);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    /** A kept-alive HTTPS connection; requests go one after another. */
    static final class TlsConnection implements AutoCloseable {
        private final SSLSocket socket;
        private final InputStream in;

        private TlsConnection(SSLSocket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream());
        }

        /** The certificate the server chose for this connection. */
        X509Certificate served() throws IOException {
            Certificate[] chain = socket.getSession().getPeerCertificates();
            return (X509Certificate) chain[0];
        }

        /** The TLS session's id, the same for as long as the connection lives. */
        byte[] sessionId() {
            return socket.getSession().getId();
        }

        /** Sends {@code GET path} with {@code Host: host} and reads the response; the connection stays open. */
        Response get(String path, String host) throws IOException {
            write(socket.getOutputStream(), "GET", path, host, false);
            return read(in, false);
        }

        boolean isOpen() {
            return !socket.isClosed();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void write(OutputStream out, String method, String target, String host, boolean close) throws IOException {
        String request = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n"
                + (close ? "Connection: close\r\n" : "") + ("POST".equals(method) ? "Content-Length: 0\r\n" : "") + "\r\n";
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
                for (int size = Integer.parseInt(line(in).split(";")[0].trim(), 16); size > 0;
                        size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) {
                    body.write(in.readNBytes(size));
                    line(in);
                }
                line(in);
            } else if (headers.containsKey("content-length")) {
                body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
            } else {
                body.write(in.readAllBytes());
            }
        }
        return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
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
