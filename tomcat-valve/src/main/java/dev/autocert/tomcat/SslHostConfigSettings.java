package dev.autocert.tomcat;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.security.KeyStore;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.tomcat.util.IntrospectionUtils;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.openssl.OpenSSLConf;

/**
 * The TLS settings of an {@code <SSLHostConfig>} its user wrote, everything but its host name and
 * its certificates, which Autocert carries over to each {@link SSLHostConfig} it installs in its
 * place: protocols and cipher suites (TLS 1.2 {@code ciphers}, TLS 1.3 {@code cipherSuites}),
 * key exchange {@code groups}, sessions, and client-certificate verification with its trust
 * store, CA files, CRLs and OCSP. Only values that differ from a new {@code SSLHostConfig}'s are
 * copied, so an installed config is what Tomcat would have built from the same XML. Immutable
 * once made; {@link #applyTo} is safe from any thread.
 */
final class SslHostConfigSettings {

    /**
     * The properties copied, by their attribute name in server.xml. They are read and written
     * through Tomcat's {@link IntrospectionUtils}, as server.xml sets them, so that one a Tomcat
     * 10.1 release does not have yet ({@code cipherSuites}, {@code groups}, {@code ocsp*}) is
     * skipped rather than failing. {@code protocols}, {@code certificateVerificationDepth}, the
     * trust store set in code and {@code <OpenSSLConf>} are copied apart: they are not plain values.
     */
    static final List<String> PROPERTIES = List.of(
            // protocols and cipher suites
            "sslProtocol", "ciphers", "cipherSuites", "groups", "honorCipherOrder",
            // sessions and renegotiation
            "sessionCacheSize", "sessionTimeout", "disableSessionTickets", "disableCompression", "insecureRenegotiation",
            // client certificates: verification and trust (JSSE trust store or OpenSSL CA files)
            "certificateVerification", "truststoreFile", "truststorePassword", "truststoreType", "truststoreProvider",
            "truststoreAlgorithm", "trustManagerClassName", "caCertificateFile", "caCertificatePath",
            // revocation of client certificates
            "revocationEnabled", "certificateRevocationListFile", "certificateRevocationListPath",
            "ocspEnabled", "ocspSoftFail", "ocspTimeout", "ocspVerifyFlags",
            // the key manager that reads Autocert's key store
            "keyManagerAlgorithm");

    /** The settings of a config nobody changed: nothing to copy. */
    static final SslHostConfigSettings NONE = new SslHostConfigSettings(Map.of(), null, null);

    /**
     * Property name to value, as server.xml would spell it, in the order they are set: {@code
     * protocols}, then {@link #PROPERTIES} (a trust store's file before its password and type).
     */
    private final Map<String, String> values;
    private final KeyStore trustStore;
    private final OpenSSLConf openSslConf;

    private SslHostConfigSettings(Map<String, String> values, KeyStore trustStore, OpenSSLConf openSslConf) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.trustStore = trustStore;
        this.openSslConf = openSslConf;
    }

    /** The settings {@code config} changes from Tomcat's defaults. */
    static SslHostConfigSettings of(SSLHostConfig config) {
        requireNonNull(config, "config");
        SSLHostConfig defaults = new SSLHostConfig();
        Map<String, String> values = new LinkedHashMap<>();
        if (!config.getProtocols().equals(defaults.getProtocols())) {
            // The set as Tomcat resolved it ("all", "-TLSv1.1" and the like already applied).
            values.put("protocols", String.join(",", new TreeSet<>(config.getProtocols())));
        }
        for (String name : PROPERTIES) {
            Object value = IntrospectionUtils.getProperty(config, name);
            if (value != null && !value.equals(IntrospectionUtils.getProperty(defaults, name))) {
                values.put(name, value.toString());
            }
        }
        if (config.isCertificateVerificationDepthConfigured()) {
            // Copied even when it is the default: without it, OpenSSL uses its own.
            values.put("certificateVerificationDepth", Integer.toString(config.getCertificateVerificationDepth()));
        }
        KeyStore trustStore = null;
        if (config.getTruststoreFile() == null) {
            try {
                trustStore = config.getTruststore(); // one set in code; with no file, nothing is read
            } catch (IOException e) {
                throw new IllegalStateException("Tomcat read a trust store without a truststoreFile", e);
            }
        }
        return new SslHostConfigSettings(values, trustStore, config.getOpenSslConf());
    }

    /** Sets these settings on {@code config}, a new one Autocert is about to install. */
    void applyTo(SSLHostConfig config) {
        for (Map.Entry<String, String> value : values.entrySet()) {
            IntrospectionUtils.setProperty(config, value.getKey(), value.getValue());
        }
        if (trustStore != null) {
            config.setTrustStore(trustStore);
        }
        if (openSslConf != null) {
            config.setOpenSslConf(openSslConf);
        }
    }

    /** The names of the settings copied, for logs (values are not: the trust store password is one). */
    Set<String> names() {
        Set<String> names = new TreeSet<>(values.keySet());
        if (trustStore != null) {
            names.add("trustStore");
        }
        if (openSslConf != null) {
            names.add("OpenSSLConf");
        }
        return names;
    }

    @Override
    public String toString() {
        return "SslHostConfigSettings" + names();
    }
}
