package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.SniKeyManager;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.EventListener;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives each HTTPS connector's {@link SslContextFactory.Server} one {@link SSLContext} whose key
 * manager is the engine's {@link SniKeyManager} (through a {@link JettyKeyManager}), before the
 * factory starts. That is Autocert's whole TLS job: a new certificate is served from the next
 * handshake, and nothing in Jetty is rebuilt or reloaded. Open connections keep their session.
 * The context's engines answer TLS-ALPN-01 ({@link TlsAlpn01SslContext}), also behind Jetty's ALPN
 * (HTTP/2) when the installer is given the connector's {@link SslConnectionFactory}.
 *
 * <p>A factory given an {@code SSLContext} loads no key store (a key store path, password or
 * alias set on it is not read). The rest of its configuration applies as usual: protocols,
 * cipher suites, session cache, client authentication ({@code needClientAuth},
 * {@code wantClientAuth}). Client certificates are checked against the factory's trust store when
 * it was given as a {@link KeyStore} ({@code setTrustStore}), against nothing when it trusts all,
 * and against the JDK's default trust otherwise, as Jetty itself does. A trust store file, a CRL
 * path or {@code validatePeerCerts} cannot be honoured, since Jetty reads them only into a
 * context it builds itself, so such a factory is refused rather than silently trusting more
 * clients than its owner meant. Thread-safe.
 */
final class SslContextInstaller {

    private static final Logger LOG = LoggerFactory.getLogger(SslContextInstaller.class);

    private final Supplier<SniKeyManager> engine;
    private final TlsAlpn01ConnectionListener alpn;
    /** The contexts this installer made, to recognise a factory it has already given one. */
    private final Set<SSLContext> installed = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

    /** @param engine the running engine's key manager, or null while none runs */
    SslContextInstaller(Supplier<SniKeyManager> engine) {
        this.engine = requireNonNull(engine, "engine");
        this.alpn = new TlsAlpn01ConnectionListener(engine);
    }

    /**
     * Gives the {@code SslContextFactory.Server} of {@code ssl}, the TLS connection factory of an
     * HTTPS connector not started yet, an SSL context serving the engine's certificates, as
     * {@link #install(SslContextFactory.Server)} does, and keeps TLS-ALPN-01 in front of any ALPN
     * selection (HTTP/2) on the connections it makes ({@link TlsAlpn01ConnectionListener}). Does
     * nothing that is done already.
     *
     * @throws IllegalStateException when the factory's trust settings cannot be honoured
     */
    void install(SslConnectionFactory ssl) {
        requireNonNull(ssl, "ssl");
        install(ssl.getSslContextFactory());
        for (EventListener listener : ssl.getEventListeners()) {
            if (listener instanceof TlsAlpn01ConnectionListener && listener != alpn) {
                ssl.removeEventListener(listener); // another installer's, whose SSL context was just replaced
            }
        }
        ssl.addEventListener(alpn); // Jetty adds a listener only once
    }

    /**
     * Gives {@code factory}, which must not be started, an SSL context serving the engine's
     * certificates; does nothing when it has one from this installer already. An SSL context set
     * on it by someone else is replaced.
     *
     * @throws IllegalStateException when the factory's trust settings cannot be honoured
     */
    void install(SslContextFactory.Server factory) {
        requireNonNull(factory, "factory");
        SSLContext previous = factory.getSslContext();
        if (previous != null && installed.contains(previous)) {
            return;
        }
        checkTrust(factory);
        SSLContext context;
        try {
            context = factory.getProvider() == null ? SSLContext.getInstance(factory.getProtocol())
                    : SSLContext.getInstance(factory.getProtocol(), factory.getProvider());
            SecureRandom random = factory.getSecureRandomAlgorithm() == null ? null
                    : SecureRandom.getInstance(factory.getSecureRandomAlgorithm());
            context.init(new KeyManager[] {new JettyKeyManager(engine, factory)}, trustManagers(factory), random);
            context = new TlsAlpn01SslContext(context, engine);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot make the SSL context of " + factory + ": " + e.getMessage(), e);
        }
        if (previous != null) {
            LOG.warn("Replaced the SSLContext set on {}: Autocert serves its certificates through its own", factory);
        }
        factory.setSslContext(context);
        installed.add(context);
        LOG.debug("Autocert serves certificates through {}", factory);
    }

    private static void checkTrust(SslContextFactory.Server factory) {
        String unsupported = factory.getTrustStoreResource() != null ? "a trust store file (" + factory.getTrustStoreResource() + ")"
                : factory.getCrlPath() != null ? "a CRL path (" + factory.getCrlPath() + ")"
                : factory.isValidatePeerCerts() ? "validatePeerCerts" : null;
        if (unsupported != null) {
            throw new IllegalStateException(factory + " has " + unsupported + " for client certificates, which Autocert "
                    + "cannot apply: its SSL context is built without Jetty reading key or trust store files. Give the "
                    + "trust store as a KeyStore instead (SslContextFactory.setTrustStore)");
        }
    }

    /** The trust managers Jetty would make for the factory; null means the JDK's default trust. */
    private static TrustManager[] trustManagers(SslContextFactory.Server factory) throws GeneralSecurityException {
        KeyStore trustStore = factory.getTrustStore();
        if (trustStore != null) {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(factory.getTrustManagerFactoryAlgorithm());
            trust.init(trustStore);
            return trust.getTrustManagers();
        }
        return factory.isTrustAll() ? SslContextFactory.TRUST_ALL_CERTS : null;
    }

    @Override
    public String toString() {
        return "SslContextInstaller" + installed.size();
    }
}
