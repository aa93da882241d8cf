package dev.autocert.tomcat;

import dev.autocert.core.SniKeyManager;
import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509KeyManager;
import org.apache.tomcat.util.net.SSLContext;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.apache.tomcat.util.net.SSLUtil;
import org.apache.tomcat.util.net.jsse.JSSEImplementation;
import org.apache.tomcat.util.net.jsse.JSSEUtil;

/**
 * Tomcat's JSSE TLS, except that a certificate carrying a key manager
 * ({@link SSLHostConfigCertificate#setCertificateKeyManager}) is served by that key manager
 * instead of a key store or PEM files. Autocert sets it as the {@code sslImplementationName} of
 * each HTTPS connector and gives the connector's {@code SSLHostConfig}s a certificate carrying the
 * engine's SNI key manager, which picks the certificate of each handshake; certificates of
 * {@code SSLHostConfig}s Autocert does not serve are read from their key stores or files as usual.
 *
 * <p>Tomcat's own JSSE code reads that key manager only under OpenSSL, and OpenSSL asks for a
 * certificate once, when the SSL context is built; JSSE asks the key manager at every handshake,
 * which is what lets a new certificate serve without a reload.
 *
 * <p>When that key manager is the engine's {@link SniKeyManager}, each {@link SSLEngine} also
 * answers TLS-ALPN-01 ({@link SniKeyManager#enableTlsAlpn01(SSLEngine)}): a CA offering ALPN
 * {@code acme-tls/1} for a name being validated negotiates it and is served the challenge
 * certificate, and Tomcat then closes the connection, as it does for any protocol it does not
 * serve. What every other client negotiates is unchanged: Tomcat sets the engine's application
 * protocols afterwards (HTTP/2 when configured), and they still decide. Not for direct use: Tomcat makes
 * instances by class name (so the class is public, with a public constructor). Thread-safe.
 */
public final class AutocertSslImplementation extends JSSEImplementation {

    /** What Tomcat calls, by class name. */
    public AutocertSslImplementation() {
    }

    @Override
    public SSLUtil getSSLUtil(SSLHostConfigCertificate certificate) {
        X509KeyManager keyManager = certificate.getCertificateKeyManager();
        if (keyManager == null) {
            return super.getSSLUtil(certificate);
        }
        return new JSSEUtil(certificate) {
            @Override
            public KeyManager[] getKeyManagers() {
                return new KeyManager[] {keyManager};
            }

            @Override
            public SSLContext createSSLContextInternal(List<String> negotiableProtocols) throws NoSuchAlgorithmException {
                SSLContext context = super.createSSLContextInternal(negotiableProtocols);
                return keyManager instanceof SniKeyManager sni ? new TlsAlpn01Context(context, sni) : context;
            }
        };
    }

    /** Tomcat's SSL context, with each engine it makes answering TLS-ALPN-01. */
    private record TlsAlpn01Context(SSLContext context, SniKeyManager keyManager) implements SSLContext {

        @Override
        public SSLEngine createSSLEngine() {
            SSLEngine engine = context.createSSLEngine();
            keyManager.enableTlsAlpn01(engine);
            return engine;
        }

        @Override
        public void init(KeyManager[] kms, TrustManager[] tms, SecureRandom sr) throws KeyManagementException {
            context.init(kms, tms, sr);
        }

        @Override
        public void destroy() {
            context.destroy();
        }

        @Override
        public SSLSessionContext getServerSessionContext() {
            return context.getServerSessionContext();
        }

        @Override
        public SSLServerSocketFactory getServerSocketFactory() {
            return context.getServerSocketFactory();
        }

        @Override
        public SSLParameters getSupportedSSLParameters() {
            return context.getSupportedSSLParameters();
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return context.getCertificateChain(alias);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return context.getAcceptedIssuers();
        }
    }
}
