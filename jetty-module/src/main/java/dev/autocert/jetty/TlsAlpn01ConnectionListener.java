package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.SniKeyManager;
import java.util.function.Supplier;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.ssl.SslConnection;

/**
 * Keeps TLS-ALPN-01 working on an HTTPS connector with ALPN (Jetty's HTTP/2): Jetty's
 * {@code ALPNServerConnectionFactory} sets its own ALPN selector on each new engine, replacing the
 * one Autocert's SSL context gave it ({@link TlsAlpn01SslContext}), so a CA offering
 * {@code acme-tls/1} would be refused. When a TLS connection opens, after its connections are
 * built and before any byte of the handshake is read, this puts a {@link TlsAlpn01Selector} in
 * front of Jetty's: the CA's validation handshakes get {@code acme-tls/1}, and Jetty's selector
 * chooses for every other handshake, as without Autocert.
 *
 * <p>An event listener of an {@code SslConnectionFactory}, which gives it to each
 * {@link SslConnection} it makes. The engine is looked up for each connection, so a server stopped
 * and started again answers for its new engine. Thread-safe and stateless.
 */
final class TlsAlpn01ConnectionListener implements Connection.Listener {

    private final Supplier<SniKeyManager> engine;

    /** @param engine the running engine's key manager, or null while none runs */
    TlsAlpn01ConnectionListener(Supplier<SniKeyManager> engine) {
        this.engine = requireNonNull(engine, "engine");
    }

    @Override
    public void onOpened(Connection connection) {
        if (connection instanceof SslConnection ssl) {
            SniKeyManager current = engine.get();
            if (current != null) {
                TlsAlpn01Selector.install(ssl.getSSLEngine(), current);
            }
        }
    }
}
