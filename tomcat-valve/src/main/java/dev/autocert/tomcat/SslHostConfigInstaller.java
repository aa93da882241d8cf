package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.X509KeyManager;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.ProtocolHandler;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives Tomcat's HTTPS connectors the engine's key manager, once, before they initialise: the
 * connector's default {@link SSLHostConfig} ({@code _default_} unless the connector names another),
 * and every {@code SSLHostConfig} its user wrote for a managed name, get a certificate that
 * {@link AutocertSslImplementation} serves through the key manager. The key manager picks each
 * handshake's certificate by SNI from what the engine serves at that moment, so a new certificate
 * needs nothing rebuilt or reloaded, open connections keep their session, and the cost does not
 * depend on how many certificates there are.
 *
 * <p>The user's {@code SSLHostConfig}s are used as they are, so every TLS setting of theirs holds
 * (protocols, cipher suites, groups, client-certificate verification and trust, CRLs, sessions):
 * only the certificate is Autocert's. Those for names Autocert does not manage are left alone.
 */
final class SslHostConfigInstaller {

    private static final Logger LOG = LoggerFactory.getLogger(SslHostConfigInstaller.class);

    /** The connector property naming its TLS implementation, on Tomcat 10.1 and 11 alike. */
    private static final String SSL_IMPLEMENTATION = "sslImplementationName";

    /** The alias Tomcat logs for the certificate; the key manager chooses its own for each handshake. */
    private static final String KEY_ALIAS = "autocert";

    private SslHostConfigInstaller() {
    }

    /** Whether {@code connector} speaks HTTPS: an HTTP/1.1 (and HTTP/2) connector with {@code SSLEnabled="true"}. */
    static boolean isHttps(Connector connector) {
        ProtocolHandler handler = connector.getProtocolHandler();
        return handler instanceof AbstractHttp11Protocol<?> protocol && protocol.isSSLEnabled();
    }

    /**
     * Installs {@code keyManager} on {@code connector}, an HTTPS connector not initialised yet, for
     * the default host and each {@code SSLHostConfig} whose host name is in {@code managedNames}
     * (lower case). A certificate the user configured in one of those is replaced, with a WARN.
     */
    static void install(Connector connector, X509KeyManager keyManager, Set<String> managedNames) {
        requireNonNull(keyManager, "keyManager");
        AbstractHttp11Protocol<?> protocol = (AbstractHttp11Protocol<?>) connector.getProtocolHandler();
        Object implementation = connector.getProperty(SSL_IMPLEMENTATION);
        if (implementation != null && !AutocertSslImplementation.class.getName().equals(implementation)) {
            // OpenSSL picks a certificate when its context is built, never per handshake.
            LOG.warn("HTTPS port {} uses {} instead of its {} {}: Autocert serves its certificates through JSSE, Java's TLS",
                    connector.getPort(), AutocertSslImplementation.class.getName(), SSL_IMPLEMENTATION, implementation);
        }
        connector.setProperty(SSL_IMPLEMENTATION, AutocertSslImplementation.class.getName());

        String defaultHost = protocol.getDefaultSSLHostConfigName();
        boolean hasDefault = false;
        for (SSLHostConfig config : protocol.findSslHostConfigs()) {
            boolean isDefault = config.getHostName().equalsIgnoreCase(defaultHost);
            hasDefault |= isDefault;
            if (isDefault || managedNames.contains(config.getHostName().toLowerCase(Locale.ENGLISH))) {
                serve(connector, config, keyManager);
            }
        }
        if (!hasDefault) {
            SSLHostConfig config = new SSLHostConfig();
            config.setHostName(defaultHost);
            serve(connector, config, keyManager);
            protocol.addSslHostConfig(config);
        }
    }

    /** Makes {@code config} serve the key manager's certificates; it keeps all its other settings. */
    private static void serve(Connector connector, SSLHostConfig config, X509KeyManager keyManager) {
        if (!config.getCertificates().isEmpty()) {
            // Tomcat offers no way to remove a certificate; its set is the config's own.
            LOG.warn("Autocert serves host {} on HTTPS port {}: the <Certificate> configured in its <SSLHostConfig> is not used",
                    config.getHostName(), connector.getPort());
            config.getCertificates().clear();
        }
        SSLHostConfigCertificate certificate = new SSLHostConfigCertificate(config, SSLHostConfigCertificate.Type.UNDEFINED);
        certificate.setCertificateKeyManager(keyManager);
        // Never read: without them, Tomcat's start-up log names a key store file it does not read either.
        certificate.setCertificateKeystore(emptyKeyStore());
        certificate.setCertificateKeyAlias(KEY_ALIAS);
        config.addCertificate(certificate);
        LOG.debug("Host {} on HTTPS port {} serves Autocert's certificates", config.getHostName(), connector.getPort());
    }

    private static KeyStore emptyKeyStore() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("The JDK cannot make an empty PKCS#12 key store", e);
        }
    }
}
