package dev.autocert.tomcat;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A small HTTP/1.1 client for tests, over plain sockets or TLS to 127.0.0.1: it sends request
 * targets exactly as written (so {@code ..} and {@code %2F} reach the server), keeps connections
 * alive, and over TLS sends a host name as SNI and checks the served chain against a trust store
 * with host-name verification ({@code HTTPS} endpoint identification), remembering the chain it
 * was shown even when it rejects it.
 */
final class TestHttpClient {

    private static final int TIMEOUT_MILLIS = 10_000;
    /** How long {@link #awaitVerified} waits: an issuance against Pebble takes about a second. */
    private static final Duration VERIFIED_TIMEOUT = Duration.ofSeconds(30);

    private TestHttpClient() {
    }

    /** A response: status, headers (names in lower case) and body. */
    record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** Opens a plain HTTP connection to 127.0.0.1:{@code port}. */
    static Connection http(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        return new Connection(socket, List.of());
    }

    /**
     * Opens a TLS connection to 127.0.0.1:{@code port} with {@code host} as SNI, verifying the
     * served chain against {@code trust} and {@code host}.
     *
     * @throws javax.net.ssl.SSLHandshakeException when the chain or the host name does not verify
     */
    static Connection https(int port, String host, KeyStore trust) throws IOException {
        Handshake handshake = handshake(port, host, trust);
        if (handshake.failure() != null) {
            throw handshake.failure();
        }
        return handshake.connection();
    }

    /** The outcome of a TLS handshake: the chain the server sent, and the connection or why it was refused. */
    record Handshake(List<X509Certificate> served, Connection connection, IOException failure) {
        X509Certificate leaf() {
            return served.get(0);
        }
    }

    /** Makes a TLS handshake as {@link #https} does, returning the served chain whether or not it verified. */
    static Handshake handshake(int port, String host, KeyStore trust) throws IOException {
        return handshake(port, host, trust, true);
    }

    /**
     * Makes a TLS handshake to 127.0.0.1:{@code port} as a client of {@code host} would, with or
     * without SNI; the served chain is verified against {@code trust} and {@code host} either way.
     */
    static Handshake handshake(int port, String host, KeyStore trust, boolean sni) throws IOException {
        return handshake(port, host, trust, sni, null);
    }

    /**
     * Makes a TLS handshake as {@link #handshake(int, String, KeyStore, boolean)} does, offering
     * the client certificate of {@code clientKeys} when the server asks for one ({@code null}:
     * none). Under TLS 1.3 a server refuses a client certificate only after the client's
     * handshake completed: its alert fails the first request.
     */
    static Handshake handshake(int port, String host, KeyStore trust, boolean sni, KeyManager[] clientKeys)
            throws IOException {
        AtomicReference<List<X509Certificate>> served = new AtomicReference<>(List.of());
        SSLContext context;
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(trust);
            X509ExtendedTrustManager verifier = (X509ExtendedTrustManager) factory.getTrustManagers()[0];
            context = SSLContext.getInstance("TLS");
            context.init(clientKeys, new TrustManager[] {new Recording(verifier, served)}, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
        plain.setSoTimeout(TIMEOUT_MILLIS);
        // Layered, so that the session's peer host is the name: without SNI, host-name checking uses it.
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(sni ? List.of(new SNIHostName(host)) : List.of());
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        try {
            socket.startHandshake();
        } catch (IOException e) {
            socket.close();
            return new Handshake(served.get(), null, e);
        }
        return new Handshake(served.get(), new Connection(socket, served.get()), null);
    }

    /**
     * Waits until 127.0.0.1:{@code port} serves {@code host} a certificate that verifies against
     * {@code trust}, and returns it; connection failures (a server still starting) are retried too.
     */
    static X509Certificate awaitVerified(int port, String host, KeyStore trust) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + VERIFIED_TIMEOUT.toNanos();
        while (true) {
            Handshake handshake;
            try {
                handshake = handshake(port, host, trust);
            } catch (IOException e) {
                handshake = new Handshake(List.of(), null, e);
            }
            if (handshake.failure() == null) {
                handshake.connection().close();
                return handshake.leaf();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("No certificate verifying for " + host + " within " + VERIFIED_TIMEOUT
                        + "; served " + (handshake.served().isEmpty() ? "none" : handshake.leaf().getSubjectX500Principal()),
                        handshake.failure());
            }
            Thread.sleep(100);
        }
    }

    /** A trust store holding {@code certificates} as trust anchors. */
    static KeyStore trustStore(X509Certificate... certificates) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < certificates.length; i++) {
                store.setCertificateEntry("anchor-" + i, certificates[i]);
            }
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One connection; requests on it are sent one after another (keep-alive). */
    static final class Connection implements Closeable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final List<X509Certificate> served;

        Connection(Socket socket, List<X509Certificate> served) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
            this.served = List.copyOf(served);
        }

        /** The TLS cipher suite negotiated; empty for plain HTTP. */
        String cipherSuite() {
            return socket instanceof SSLSocket tls ? tls.getSession().getCipherSuite() : "";
        }

        /** The chain the server sent; empty for plain HTTP. */
        List<X509Certificate> served() {
            return served;
        }

        /** Sends {@code method target} with {@code Host: host} and reads the response. */
        Response request(String method, String target, String host) throws IOException {
            return request(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n"
                    + ("POST".equals(method) ? "Content-Length: 0\r\n" : "") + "\r\n", "HEAD".equals(method));
        }

        /** Sends {@code rawRequest} as it is and reads the response. */
        Response request(String rawRequest, boolean head) throws IOException {
            out.write(rawRequest.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String statusLine = line();
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("Not an HTTP response: " + statusLine);
            }
            int status = Integer.parseInt(parts[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String header = line(); !header.isEmpty(); header = line()) {
                int colon = header.indexOf(':');
                headers.put(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim());
            }
            byte[] body;
            if (head || status == 204 || status == 304) {
                body = new byte[0];
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                for (int size = Integer.parseInt(line().split(";")[0].trim(), 16); size > 0;
                        size = Integer.parseInt(line().split(";")[0].trim(), 16)) {
                    buffer.write(in.readNBytes(size));
                    line();
                }
                while (!line().isEmpty()) {
                    // trailers
                }
                body = buffer.toByteArray();
            } else if (headers.containsKey("content-length")) {
                body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
            } else {
                body = in.readAllBytes();
            }
            return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
        }

        private String line() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b = in.read(); b != '\n'; b = in.read()) {
                if (b < 0) {
                    throw new EOFException("Connection closed after " + line.size() + " bytes of a line");
                }
                if (b != '\r') {
                    line.write(b);
                }
            }
            return line.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Remembers the chain a server sent, then lets the real PKIX trust manager decide. */
    private static final class Recording extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        private final AtomicReference<List<X509Certificate>> served;

        Recording(X509ExtendedTrustManager delegate, AtomicReference<List<X509Certificate>> served) {
            this.delegate = delegate;
            this.served = served;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            served.set(new ArrayList<>(List.of(chain)));
            delegate.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            served.set(new ArrayList<>(List.of(chain)));
            delegate.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("Refusing a check without the socket: host names could not be verified");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
