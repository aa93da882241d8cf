package dev.autocert.core;

import java.net.InetAddress;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A real JSSE TLS server on 127.0.0.1 whose certificates come from a key manager, and a client
 * that reports which certificate it was served: the handshake a server adapter runs, without a
 * server. Each accepted connection completes its handshake on its own thread.
 */
final class LoopbackTlsServer implements AutoCloseable {

    private final SSLServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "loopback-tls");
        thread.setDaemon(true);
        return thread;
    });

    /** What a client saw: the certificate it was served and the ALPN protocol negotiated ("" for none). */
    record Handshake(X509Certificate certificate, String applicationProtocol) {
    }

    LoopbackTlsServer(KeyManager keyManager) throws Exception {
        this(keyManager, socket -> { });
    }

    /** @param prepare called on each accepted connection before its handshake, as a server adapter would */
    LoopbackTlsServer(KeyManager keyManager, Consumer<SSLSocket> prepare) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[] {keyManager}, null, new SecureRandom());
        server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    SSLSocket socket = (SSLSocket) server.accept();
                    threads.execute(() -> {
                        try (socket) {
                            prepare.accept(socket);
                            socket.startHandshake();
                            socket.getOutputStream().write(1);
                        } catch (Exception e) {
                            // a client that gave up, or the server closing
                        }
                    });
                } catch (Exception e) {
                    // closing
                }
            }
        });
    }

    /** The certificate served to a client sending {@code sni} (none when null); the client records it and trusts it only to look. */
    X509Certificate served(String sni) throws Exception {
        return handshake(sni, null).certificate();
    }

    /**
     * A handshake by a client sending {@code sni} (none when null) and offering the ALPN
     * {@code applicationProtocols} (none when empty); {@code tlsVersion} null for the JDK's default.
     */
    Handshake handshake(String sni, String tlsVersion, String... applicationProtocols) throws Exception {
        SSLContext client = SSLContext.getInstance("TLS");
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        client.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen.set(chain[0]); // records what was served; the tests compare it exactly
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
            socket.setSoTimeout(30_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            parameters.setApplicationProtocols(applicationProtocols);
            if (tlsVersion != null) {
                parameters.setProtocols(new String[] {tlsVersion});
            }
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            socket.getInputStream().read();
            return new Handshake(seen.get(), socket.getApplicationProtocol());
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
        threads.shutdownNow();
    }
}
