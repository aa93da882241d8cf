package dev.autocert.spring;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.KeyStores;
import dev.autocert.core.ManagedCertificate;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundleKey;
import org.springframework.boot.ssl.SslBundleRegistry;
import org.springframework.boot.ssl.SslOptions;
import org.springframework.boot.ssl.SslStoreBundle;
import org.springframework.boot.web.server.Ssl;
import org.springframework.core.Ordered;

/**
 * Publishes the engine's certificates as Spring Boot SSL bundles, registered with the set the
 * engine publishes at start-up (stored certificates or placeholders, see {@link #register()})
 * and updated with each new set, so that a server reloading its bundles swaps them without a
 * restart.
 * Thread-safe; updates are serialized.
 *
 * <ul>
 *   <li>{@value #BUNDLE} holds every certificate, one key-store alias per certificate name;
 *       its key alias, the certificate served to clients without SNI, is the first configured.
 *       Jetty's SNI key manager picks among the aliases by host name.</li>
 *   <li>{@code autocert-NAME} holds certificate {@code NAME} alone; registered on request by
 *       {@link #serverNameBundles()}, for Tomcat, which serves one certificate per SSL host
 *       config and so picks by host name only through {@code server.ssl.server-name-bundles}.</li>
 * </ul>
 * A set whose key store fails validation (a key that does not match its chain) is refused with
 * a WARN, and the bundles keep the certificates they had.
 */
final class AutocertSslBundles implements CertificateListener, Ordered {

    /** The name of the bundle holding every certificate, the value of {@code server.ssl.bundle}. */
    static final String BUNDLE = "autocert";
    /** The prefix of the bundle holding one certificate, followed by its name. */
    static final String CERTIFICATE_BUNDLE_PREFIX = "autocert-";

    private static final Logger LOG = LoggerFactory.getLogger(AutocertSslBundles.class);

    private final SslBundleRegistry registry;
    private final List<ManagedCertificate> managed;
    private final SslOptions options;
    /** Protects the in-memory key stores' entries; they never leave this process. */
    private final String password;
    private List<CertifiedKey> installed = List.of();
    /** The bundle of {@link #installed}; null before the first set. */
    private SslBundle current;
    private boolean registered;
    /** The certificate each {@code autocert-NAME} bundle holds, by name; only those registered. */
    private final Map<String, CertifiedKey> certificateBundles = new LinkedHashMap<>();

    /**
     * @param options the protocols and cipher suites the bundles allow: {@code server.ssl.enabled-protocols}
     *                and {@code server.ssl.ciphers}, which a server applies only from its bundle
     */
    AutocertSslBundles(SslBundleRegistry registry, List<ManagedCertificate> managed, SslOptions options) {
        this.registry = requireNonNull(registry, "registry");
        this.managed = List.copyOf(managed);
        this.options = requireNonNull(options, "options");
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        this.password = HexFormat.of().formatHex(random);
    }

    /** Whether a server configured with {@code ssl} serves the {@value #BUNDLE} bundle. */
    static boolean servedBy(Ssl ssl) {
        return Ssl.isEnabled(ssl) && BUNDLE.equals(ssl.getBundle());
    }

    /** Runs first among the listeners, so that the server swaps before user hooks hear of the change. */
    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    public void onEvent(CertificateEvent event) {
        if (event.type().changesCertificates()) {
            install(event.certificates(), event.certificate());
        }
    }

    /** The certificates in the bundles now, in the configured order; empty before the first set. */
    synchronized List<CertifiedKey> installed() {
        return installed;
    }

    /**
     * Registers an {@code autocert-NAME} bundle for each certificate, unless done, and returns
     * the bundle to serve for each host name a certificate covers, for {@code
     * server.ssl.server-name-bundles}.
     *
     * @throws IllegalStateException before the engine published its first certificate set
     */
    synchronized Map<String, String> serverNameBundles() {
        Map<String, String> result = new LinkedHashMap<>();
        for (ManagedCertificate certificate : managed) {
            String name = certificate.name();
            String bundleName = CERTIFICATE_BUNDLE_PREFIX + name;
            if (!certificateBundles.containsKey(name)) {
                CertifiedKey key = find(installed, name).orElseThrow(() -> new IllegalStateException(
                        "No certificate for " + name + " yet: the CertificateManager must be loaded before the web server is created"));
                try {
                    registry.registerBundle(bundleName, bundle(List.of(key)));
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("Cannot build SSL bundle " + bundleName + ": " + e.getMessage(), e);
                }
                certificateBundles.put(name, key);
            }
            certificate.domains().forEach(domain -> result.put(domain, bundleName));
        }
        return result;
    }

    /**
     * Registers the {@value #BUNDLE} bundle with the certificates installed so far: called once
     * the engine has published its start-up set, so the bundle is registered whole rather than
     * updated once per certificate before any server listens for updates. Idempotent.
     *
     * @throws IllegalStateException when no certificate was installed yet
     */
    synchronized void register() {
        if (registered) {
            return;
        }
        if (current == null) {
            throw new IllegalStateException("No certificates yet: the CertificateManager must be loaded first");
        }
        registry.registerBundle(BUNDLE, current);
        registered = true;
        LOG.info("SSL bundle '{}' registered with {}", BUNDLE, describe(installed));
    }

    /**
     * Puts {@code keys} into the bundles, unless they fail validation.
     *
     * @param changed the certificate whose change caused this, for the log line
     * @return whether the bundles now hold {@code keys}
     */
    synchronized boolean install(List<CertifiedKey> keys, CertifiedKey changed) {
        if (keys.isEmpty()) {
            LOG.warn("Refused an empty certificate set; SSL bundle '{}' keeps {}", BUNDLE, describe(installed));
            return false;
        }
        SslBundle all;
        Map<String, SslBundle> single = new LinkedHashMap<>();
        try {
            all = bundle(keys);
            for (Map.Entry<String, CertifiedKey> entry : certificateBundles.entrySet()) {
                Optional<CertifiedKey> key = find(keys, entry.getKey());
                if (key.isPresent() && !same(key.get(), entry.getValue())) {
                    single.put(entry.getKey(), bundle(List.of(key.get())));
                }
            }
        } catch (GeneralSecurityException e) {
            // The message names the certificate, never the key.
            LOG.warn("Refused certificate set {}: {}; SSL bundle '{}' keeps {}", describe(keys), e.getMessage(), BUNDLE,
                    describe(installed));
            return false;
        }
        current = all;
        installed = List.copyOf(keys);
        if (!registered) {
            return true;
        }
        registry.updateBundle(BUNDLE, all);
        single.forEach((name, bundle) -> {
            registry.updateBundle(CERTIFICATE_BUNDLE_PREFIX + name, bundle);
            certificateBundles.put(name, find(keys, name).orElseThrow());
        });
        LOG.debug("SSL bundle '{}' updated with {} {}{}, valid until {}", BUNDLE,
                changed.placeholder() ? "self-signed placeholder" : "certificate", changed.name(), changed.names(),
                changed.notAfter());
        LOG.debug("SSL bundle '{}' holds {}", BUNDLE, describe(keys));
        return true;
    }

    private SslBundle bundle(List<CertifiedKey> keys) throws GeneralSecurityException {
        KeyStore store = KeyStores.build(keys, password.toCharArray());
        return SslBundle.of(SslStoreBundle.of(store, password, null), SslBundleKey.of(password, keys.get(0).name()), options);
    }

    private static Optional<CertifiedKey> find(List<CertifiedKey> keys, String name) {
        return keys.stream().filter(k -> k.name().equals(name)).findFirst();
    }

    private static boolean same(CertifiedKey a, CertifiedKey b) {
        return a.certificate().equals(b.certificate()) && a.privateKey().equals(b.privateKey());
    }

    private static List<String> describe(List<CertifiedKey> keys) {
        return keys.stream().map(k -> (k.placeholder() ? "placeholder " : "") + k.name() + " #" + k.serial()).toList();
    }

    @Override
    public String toString() {
        return "AutocertSslBundles" + describe(installed());
    }
}
