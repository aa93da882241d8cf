package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.KeyStores;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.ProtocolHandler;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Swaps each new set of certificates into Tomcat's HTTPS connectors: new {@link SSLHostConfig}s
 * with in-memory key stores replace the old ones through {@code addSslHostConfig(config, true)}.
 * The connector's default host ({@code _default_} unless the connector names another) gets the
 * first certificate, which so serves all its names and clients without SNI; every name of the
 * other certificates gets a config of its own, which SNI picks by host name. New handshakes see
 * the new certificate; open connections keep theirs. Each config keeps every TLS setting of the
 * {@code <SSLHostConfig>} its user wrote for that host name, or else for the default host
 * (protocols, cipher suites, groups, client-certificate verification and trust, CRLs, sessions:
 * {@link SslHostConfigSettings}); only the certificate is Autocert's.
 *
 * <p>A set whose key store cannot be built (a key that does not match its chain) is refused
 * with a WARN and the certificates in use keep serving. Before a connector is initialised the
 * configs are only recorded; Tomcat builds their SSL contexts when it binds the connector, which
 * is how an HTTPS connector without any configured certificate starts. Installs are serialized.
 */
final class SslHostConfigInstaller implements CertificateListener {

    private static final Logger LOG = LoggerFactory.getLogger(SslHostConfigInstaller.class);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final List<Target> targets;
    /** The serial last installed for each certificate name, so each new one is logged once. */
    private final Map<String, String> installedSerials = new HashMap<>();

    /**
     * One HTTPS connector and the TLS settings of each {@code <SSLHostConfig>} its user wrote, by
     * host name (in lower case); the one for the default host applies to every name without its own.
     */
    private record Target(Connector connector, AbstractHttp11Protocol<?> protocol,
            Map<String, SslHostConfigSettings> configured) {

        /** The settings for {@code hostName}: its own {@code <SSLHostConfig>}'s, else the default host's. */
        SslHostConfigSettings settings(String hostName) {
            SslHostConfigSettings own = configured.get(hostName);
            if (own != null) {
                return own;
            }
            return configured.getOrDefault(protocol.getDefaultSSLHostConfigName().toLowerCase(Locale.ENGLISH),
                    SslHostConfigSettings.NONE);
        }
    }

    SslHostConfigInstaller(List<Connector> httpsConnectors) {
        List<Target> list = new ArrayList<>();
        for (Connector connector : httpsConnectors) {
            AbstractHttp11Protocol<?> protocol = (AbstractHttp11Protocol<?>) connector.getProtocolHandler();
            Map<String, SslHostConfigSettings> configured = new HashMap<>();
            for (SSLHostConfig config : protocol.findSslHostConfigs()) {
                SslHostConfigSettings settings = SslHostConfigSettings.of(config);
                configured.put(config.getHostName().toLowerCase(Locale.ENGLISH), settings);
                LOG.debug("Certificates for host {} on port {} keep the TLS settings {} of its <SSLHostConfig>",
                        config.getHostName(), port(connector), settings.names());
            }
            list.add(new Target(connector, protocol, Map.copyOf(configured)));
        }
        this.targets = List.copyOf(list);
    }

    /** Whether {@code connector} speaks HTTPS: an HTTP/1.1 (and HTTP/2) connector with {@code SSLEnabled="true"}. */
    static boolean isHttps(Connector connector) {
        ProtocolHandler handler = connector.getProtocolHandler();
        return handler instanceof AbstractHttp11Protocol<?> protocol && protocol.isSSLEnabled();
    }

    @Override
    public void onEvent(CertificateEvent event) {
        if (event.type().changesCertificates()) {
            install(event.certificates());
        }
    }

    /**
     * Installs {@code keys} on every HTTPS connector.
     *
     * @return false when the set was refused and the certificates in use keep serving
     */
    synchronized boolean install(List<CertifiedKey> keys) {
        requireNonNull(keys, "keys");
        if (keys.isEmpty() || targets.isEmpty()) {
            return false;
        }
        char[] password = randomPassword();
        KeyStore store;
        try {
            store = KeyStores.build(keys, password);
        } catch (GeneralSecurityException e) {
            LOG.warn("Refused new certificates {}: {}; the certificates in use keep serving", names(keys), e.getMessage());
            return false;
        }
        for (Target target : targets) {
            Map<String, CertifiedKey> hosts = hostNames(keys, target.protocol().getDefaultSSLHostConfigName(),
                    target.configured().keySet());
            for (Map.Entry<String, CertifiedKey> host : hosts.entrySet()) {
                SSLHostConfig config = sslHostConfig(host.getKey(), host.getValue(), store, password,
                        target.settings(host.getKey()));
                try {
                    target.protocol().addSslHostConfig(config, true);
                } catch (IllegalArgumentException e) {
                    // The key store was checked above, so this is Tomcat refusing its SSL settings;
                    // host names swapped before this one keep their new certificate.
                    LOG.warn("Tomcat refused the certificate {} for host {} on port {}: {}; that host keeps its certificate",
                            host.getValue().name(), host.getKey(), port(target.connector()), e.getMessage());
                    if (LOG.isDebugEnabled()) {
                        LOG.debug("Why Tomcat refused the certificate for host {}", host.getKey(), e);
                    }
                    return false;
                }
                LOG.debug("Host {} on port {} now uses certificate {}", host.getKey(), port(target.connector()), host.getValue());
            }
        }
        for (CertifiedKey key : keys) {
            String serial = key.serial();
            if (!serial.equals(installedSerials.put(key.name(), serial))) {
                LOG.debug("Installed {} certificate {} for {} (serial {}, valid until {}) on HTTPS port(s) {}",
                        key.placeholder() ? "placeholder" : "CA-issued", key.name(), key.names(), serial, key.notAfter(), ports());
            }
        }
        return true;
    }

    /** The HTTPS connectors this installer serves. */
    List<Connector> connectors() {
        return targets.stream().map(Target::connector).toList();
    }

    /**
     * Host name to certificate. The connector's default host gets the first certificate (or the
     * one covering the default host's name), and each name of the other certificates its own
     * entry. The default certificate's names need none: SNI lookups fall back to the default
     * host, so all of them share one config, and Tomcat's {@code strictSni} check accepts a
     * request for any of them on a connection made for another (HTTP/2 reuses connections so)
     * or without SNI. A name the user configured an {@code <SSLHostConfig>} for is replaced all
     * the same, so that it serves Autocert's certificate.
     */
    private static Map<String, CertifiedKey> hostNames(List<CertifiedKey> keys, String defaultHostName,
            Set<String> configuredHostNames) {
        String defaultName = defaultHostName.toLowerCase(Locale.ENGLISH);
        CertifiedKey defaultKey = keys.stream().filter(key -> key.names().contains(defaultName)).findFirst()
                .orElse(keys.get(0));
        Map<String, CertifiedKey> hosts = new LinkedHashMap<>();
        hosts.put(defaultName, defaultKey);
        for (CertifiedKey key : keys) {
            for (String name : key.names()) {
                if (key != defaultKey || configuredHostNames.contains(name)) {
                    hosts.putIfAbsent(name, key);
                }
            }
        }
        return hosts;
    }

    private static SSLHostConfig sslHostConfig(String hostName, CertifiedKey key, KeyStore store, char[] password,
            SslHostConfigSettings settings) {
        SSLHostConfig config = new SSLHostConfig();
        config.setHostName(hostName);
        settings.applyTo(config); // what the user configured for this host, except the certificate
        SSLHostConfigCertificate certificate = new SSLHostConfigCertificate(config, type(key));
        certificate.setCertificateKeystore(store);
        certificate.setCertificateKeystorePassword(new String(password));
        certificate.setCertificateKeyAlias(key.name());
        config.addCertificate(certificate);
        return config;
    }

    private static SSLHostConfigCertificate.Type type(CertifiedKey key) {
        return switch (key.privateKey().getAlgorithm()) {
            case "EC" -> SSLHostConfigCertificate.Type.EC;
            case "RSA" -> SSLHostConfigCertificate.Type.RSA;
            default -> SSLHostConfigCertificate.Type.UNDEFINED;
        };
    }

    /** A fresh password for each in-memory key store; PKCS#12 wants one, nobody ever types it. */
    private static char[] randomPassword() {
        byte[] bytes = new byte[18];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).toCharArray();
    }

    private List<Integer> ports() {
        return targets.stream().map(t -> port(t.connector())).toList();
    }

    private static int port(Connector connector) {
        int local = connector.getLocalPort();
        return local > 0 ? local : connector.getPort();
    }

    private static List<String> names(List<CertifiedKey> keys) {
        return keys.stream().map(CertifiedKey::name).toList();
    }
}
