package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.SniKeyManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.function.Supplier;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.ssl.X509;

/**
 * The key manager of one {@link SslContextFactory.Server}: the running engine's
 * {@link SniKeyManager} chooses each handshake's certificate, and this adds what Jetty's own
 * {@code SniX509ExtendedKeyManager} does for Jetty. It records the client's SNI host name in the
 * handshake session ({@link SslContextFactory.Server#SNI_HOST}), which
 * {@code SecureRequestCustomizer} checks when it requires SNI, and it honours the factory's
 * {@code sniRequired}: a handshake whose SNI no certificate covers is refused instead of getting
 * the default certificate. ({@code SecureRequestCustomizer}'s host check needs nothing from here:
 * it reads the certificate the session served.)
 *
 * <p>Installed once, for as long as the factory lives; the engine behind it is looked up at each
 * handshake, so a server stopped and started again serves its new engine's certificates. With
 * no engine running, every handshake is refused. Thread-safe and lock-free.
 */
final class JettyKeyManager extends X509ExtendedKeyManager {

    private final Supplier<SniKeyManager> engine;
    private final SslContextFactory.Server factory;

    /**
     * @param engine the running engine's key manager, or null while none runs
     * @param factory the factory whose {@code sniRequired} applies
     */
    JettyKeyManager(Supplier<SniKeyManager> engine, SslContextFactory.Server factory) {
        this.engine = requireNonNull(engine, "engine");
        this.factory = requireNonNull(factory, "factory");
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine sslEngine) {
        SniKeyManager current = engine.get();
        if (current == null) {
            return null;
        }
        String alias = current.chooseEngineServerAlias(keyType, issuers, sslEngine);
        return checked(current, alias, sslEngine == null ? null : sslEngine.getHandshakeSession());
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        SniKeyManager current = engine.get();
        if (current == null) {
            return null;
        }
        String alias = current.chooseServerAlias(keyType, issuers, socket);
        return checked(current, alias, socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null);
    }

    private String checked(SniKeyManager current, String alias, SSLSession handshake) {
        String sniHost = sniHost(handshake);
        if (sniHost != null) {
            handshake.putValue(SslContextFactory.Server.SNI_HOST, sniHost);
        }
        if (alias != null && factory.isSniRequired()) {
            X509Certificate[] chain = current.getCertificateChain(alias);
            if (sniHost == null || chain == null || !new X509(alias, chain[0]).matches(sniHost)) {
                return null; // JSSE then fails the handshake, as Jetty does when SNI is required
            }
        }
        return alias;
    }

    /** The host name the client sent in SNI, or null. */
    private static String sniHost(SSLSession handshake) {
        if (handshake instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name instanceof SNIHostName host) {
                    return host.getAsciiName();
                }
            }
        }
        return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        SniKeyManager current = engine.get();
        return current == null ? null : current.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        SniKeyManager current = engine.get();
        return current == null ? null : current.getPrivateKey(alias);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        SniKeyManager current = engine.get();
        return current == null ? null : current.getServerAliases(keyType, issuers);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine sslEngine) {
        return null;
    }

    @Override
    public String toString() {
        return "JettyKeyManager[" + factory + "]";
    }
}
