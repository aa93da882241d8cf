package dev.autocert.core;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

/**
 * Opens acme4j sessions to the configured CAs, trusting the JDK's anchors plus those in
 * {@code autocert.ca-trust}.
 */
final class AcmeSessions {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final SSLContext sslContext;

    AcmeSessions(AutocertSettings settings) {
        this.sslContext = settings.caTrust().map(AcmeSessions::trusting).orElse(null);
    }

    /** A session with the CA whose directory is {@code directory}. */
    Session open(URI directory) {
        Session session = new Session(directory, new TrustingProvider(sslContext));
        session.networkSettings().setTimeout(TIMEOUT);
        return session;
    }

    /** An SSL context trusting the JDK's default anchors and every certificate in {@code pem}. */
    private static SSLContext trusting(Path pem) {
        try {
            KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            int i = 0;
            for (X509Certificate certificate : defaultAnchors()) {
                anchors.setCertificateEntry("jdk-" + i++, certificate);
            }
            try (InputStream in = Files.newInputStream(pem)) {
                for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    anchors.setCertificateEntry("ca-trust-" + i++, certificate);
                }
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(anchors);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new InvalidSettingException(AutocertSettings.PREFIX + AutocertSettings.CA_TRUST,
                    "cannot use '" + pem + "' as trust anchors: " + e.getMessage());
        }
    }

    private static List<X509Certificate> defaultAnchors() throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init((KeyStore) null);
        List<X509Certificate> result = new ArrayList<>();
        for (var manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                result.addAll(List.of(x509.getAcceptedIssuers()));
            }
        }
        return result;
    }

    /** acme4j's generic provider with our trust for the CA's HTTPS. */
    private static final class TrustingProvider extends GenericAcmeProvider {
        private final SSLContext sslContext;

        TrustingProvider(SSLContext sslContext) {
            this.sslContext = sslContext;
        }

        @Override
        public HttpClient createHttpClient(NetworkSettings networkSettings) {
            HttpClient.Builder builder = HttpClient.newBuilder()
                    .followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(networkSettings.getTimeout())
                    .proxy(networkSettings.getProxySelector());
            Optional.ofNullable(networkSettings.getAuthenticator()).ifPresent(builder::authenticator);
            Optional.ofNullable(sslContext).ifPresent(builder::sslContext);
            return builder.build();
        }
    }
}
