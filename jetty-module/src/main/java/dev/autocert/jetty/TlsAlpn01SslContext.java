package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.SniKeyManager;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * An {@link SSLContext} that is another, except that each engine it makes can answer TLS-ALPN-01
 * (RFC 8737): it gets a {@link TlsAlpn01Selector}, so a CA offering ALPN {@code acme-tls/1} for a
 * name being validated negotiates it and is served the challenge certificate, while every other
 * client negotiates what it did before. Jetty customises the engine afterwards
 * ({@code SslContextFactory.customize}), which keeps that selector; Jetty's own ALPN connection
 * factory (HTTP/2) replaces it with its own, and {@link TlsAlpn01ConnectionListener} then puts it
 * back in front.
 *
 * <p>The engine is looked up for each new {@code SSLEngine}, so a server stopped and started
 * again answers for its new engine. Thread-safe.
 */
final class TlsAlpn01SslContext extends SSLContext {

    /** @param engine the running engine's key manager, or null while none runs */
    TlsAlpn01SslContext(SSLContext context, Supplier<SniKeyManager> engine) {
        super(new Spi(context, engine), context.getProvider(), context.getProtocol());
    }

    private static final class Spi extends SSLContextSpi {

        private final SSLContext context;
        private final Supplier<SniKeyManager> engine;

        Spi(SSLContext context, Supplier<SniKeyManager> engine) {
            this.context = requireNonNull(context, "context");
            this.engine = requireNonNull(engine, "engine");
        }

        private SSLEngine prepared(SSLEngine sslEngine) {
            SniKeyManager current = engine.get();
            if (current != null) {
                TlsAlpn01Selector.install(sslEngine, current);
            }
            return sslEngine;
        }

        @Override
        protected void engineInit(KeyManager[] keyManagers, TrustManager[] trustManagers, SecureRandom random)
                throws KeyManagementException {
            context.init(keyManagers, trustManagers, random);
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return context.getSocketFactory();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return context.getServerSocketFactory();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return prepared(context.createSSLEngine());
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return prepared(context.createSSLEngine(host, port));
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return context.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return context.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return context.getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return context.getSupportedSSLParameters();
        }
    }
}
