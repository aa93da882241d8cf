package dev.autocert.spring;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.KeyStores;
import dev.autocert.core.ManagedCertificate;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.KeyManagerFactorySpi;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundleKey;
import org.springframework.boot.ssl.SslBundleRegistry;
import org.springframework.boot.ssl.SslManagerBundle;
import org.springframework.boot.ssl.SslOptions;
import org.springframework.boot.ssl.SslStoreBundle;
import org.springframework.boot.web.server.Ssl;

/**
 * The {@value #NAME} SSL bundle, which {@code server.ssl.bundle} names by default: what Spring
 * Boot builds the HTTPS connector from. Registered once, when the engine has published its
 * start-up certificates ({@link #register()}), and never updated: on embedded Tomcat and Jetty
 * the starter then gives the connector the engine's SNI key manager, which serves every
 * certificate by host name and each new one from the next handshake, so nothing is rebuilt or
 * reloaded when a certificate changes, however many there are.
 *
 * <p>What other users of the bundle see:
 * <ul>
 *   <li>its key managers ({@link #getManagers()}, {@link #createSslContext()}) are the engine's
 *       key manager: every certificate, chosen by SNI at each handshake, always current. Netty
 *       and Undertow, which Spring Boot builds from them, serve that way. They serve the server
 *       side of TLS only: they offer no client certificate.</li>
 *   <li>its key store ({@link #getStores()}) holds one entry, the default certificate (the first
 *       configured, as served when the store is read; a self-signed placeholder until it is
 *       issued), under the alias of its name, which {@link #getKey()} names. Whoever reads the
 *       key store once keeps that certificate, which is why Tomcat and Jetty (servlet or
 *       reactive) get the engine's key manager put on their HTTPS connector instead.</li>
 *   <li>no trust store: the trust managers are the JDK's defaults. Its options are the server's
 *       {@code server.ssl.enabled-protocols} and {@code server.ssl.ciphers}.</li>
 * </ul>
 * Thread-safe.
 */
final class AutocertSslBundle implements SslBundle {

    /** The bundle's name, the value of {@code server.ssl.bundle}. */
    static final String NAME = "autocert";

    private static final Logger LOG = LoggerFactory.getLogger(AutocertSslBundle.class);

    private final SslBundleRegistry registry;
    private final CertificateManager manager;
    /** The certificate served to clients without SNI, and the one the key store holds. */
    private final String defaultName;
    private final SslOptions options;
    /** Protects the in-memory key store's entry; it never leaves this process. */
    private final String password;
    private final SslManagerBundle managers;
    /** The key store last built, and the certificate it holds; null before the first read. */
    private volatile Stores stores;
    private boolean registered;

    /**
     * @param options the protocols and cipher suites the bundle allows: {@code server.ssl.enabled-protocols}
     *                and {@code server.ssl.ciphers}, which a server applies only from its bundle
     * @throws IllegalStateException when {@code manager} manages no certificate
     */
    AutocertSslBundle(SslBundleRegistry registry, CertificateManager manager, SslOptions options) {
        this.registry = requireNonNull(registry, "registry");
        this.manager = requireNonNull(manager, "manager");
        this.options = requireNonNull(options, "options");
        List<ManagedCertificate> managed = manager.settings().certificates();
        if (managed.isEmpty()) {
            throw new IllegalStateException("SSL bundle '" + NAME + "' needs a certificate: set autocert.domains");
        }
        this.defaultName = managed.get(0).name();
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        this.password = HexFormat.of().formatHex(random);
        this.managers = new EngineManagers(new EngineKeyManagerFactory(manager.keyManager()));
    }

    /** Whether a server configured with {@code ssl} serves the {@value #NAME} bundle. */
    static boolean servedBy(Ssl ssl) {
        return Ssl.isEnabled(ssl) && NAME.equals(ssl.getBundle());
    }

    /**
     * Registers the bundle: called once the engine has published its start-up certificates, so
     * that the bundle's key store can be read. Idempotent.
     *
     * @throws IllegalStateException when the engine has no certificate yet
     */
    synchronized void register() {
        if (registered) {
            return;
        }
        CertifiedKey first = defaultCertificate();
        registry.registerBundle(NAME, this);
        registered = true;
        LOG.info("SSL bundle '{}' registered: the engine's key manager serves {} certificate(s) by SNI, by default {}{} #{}",
                NAME, manager.certificates().size(), first.placeholder() ? "placeholder " : "", first.name(), first.serial());
    }

    @Override
    public SslStoreBundle getStores() {
        CertifiedKey key = defaultCertificate();
        Stores current = stores;
        if (current == null || current.key() != key) {
            KeyStore store;
            try {
                store = KeyStores.build(List.of(key), password.toCharArray());
            } catch (GeneralSecurityException e) {
                // The message names the certificate, never the key.
                throw new IllegalStateException("Cannot put certificate " + key.name() + " into SSL bundle '" + NAME + "': "
                        + e.getMessage(), e);
            }
            current = new Stores(key, SslStoreBundle.of(store, password, null));
            stores = current;
        }
        return current.bundle();
    }

    @Override
    public SslBundleKey getKey() {
        return SslBundleKey.of(password, defaultName);
    }

    @Override
    public SslOptions getOptions() {
        return options;
    }

    @Override
    public String getProtocol() {
        return SslBundle.DEFAULT_PROTOCOL;
    }

    @Override
    public SslManagerBundle getManagers() {
        return managers;
    }

    private CertifiedKey defaultCertificate() {
        return manager.certificate(defaultName).orElseThrow(() -> new IllegalStateException("No certificate for "
                + defaultName + " yet: the CertificateManager must be loaded before SSL bundle '" + NAME + "' is read"));
    }

    @Override
    public String toString() {
        return "AutocertSslBundle[" + NAME + ", default " + defaultName + "]";
    }

    private record Stores(CertifiedKey key, SslStoreBundle bundle) {
    }

    /** The engine's key manager, and the JDK's default trust, as Spring Boot's managers. */
    private record EngineManagers(KeyManagerFactory keyManagerFactory) implements SslManagerBundle {

        @Override
        public KeyManagerFactory getKeyManagerFactory() {
            return keyManagerFactory;
        }

        @Override
        public TrustManagerFactory getTrustManagerFactory() {
            try {
                TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                factory.init((KeyStore) null);
                return factory;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("Cannot make the JDK's default trust managers: " + e.getMessage(), e);
            }
        }
    }

    /** A factory whose one key manager is the engine's: Netty takes a factory rather than key managers. */
    private static final class EngineKeyManagerFactory extends KeyManagerFactory {

        EngineKeyManagerFactory(KeyManager keyManager) {
            super(new KeyManagerFactorySpi() {
                @Override
                protected void engineInit(KeyStore keyStore, char[] password) {
                    // Nothing to read: the engine holds the keys.
                }

                @Override
                protected void engineInit(ManagerFactoryParameters parameters) {
                    // Nothing to read: the engine holds the keys.
                }

                @Override
                protected KeyManager[] engineGetKeyManagers() {
                    return new KeyManager[] {keyManager};
                }
            }, null, NAME);
        }
    }
}
