package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.KeyStores;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Swaps each new certificate set into Jetty's {@link SslContextFactory.Server}s: builds a fresh
 * in-memory key store (one alias per certificate, so Jetty's SNI matching picks by host name),
 * validates it, and only then reloads the factories. A set that fails validation is refused and
 * the certificates served before keep serving. Thread-safe; swaps are serialized.
 *
 * <p>Connections already open keep their TLS session; handshakes after the swap see the new
 * certificates. The first certificate configured is the default, served to clients that send no
 * SNI or a name no certificate covers.
 */
final class SslContextInstaller implements CertificateListener {

    private static final Logger LOG = LoggerFactory.getLogger(SslContextInstaller.class);

    private final List<SslContextFactory.Server> factories;
    /** Protects the in-memory key store's entries; it never leaves this process. */
    private final String password;
    private List<CertifiedKey> installed = List.of();
    private KeyStore installedStore;

    SslContextInstaller(List<SslContextFactory.Server> factories) {
        this.factories = List.copyOf(factories);
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        this.password = HexFormat.of().formatHex(random);
    }

    @Override
    public void onEvent(CertificateEvent event) {
        if (event.type().changesCertificates()) {
            install(event.certificates(), Optional.of(event.certificate()));
        }
    }

    /** The certificates served now, in the configured order; empty before the first install. */
    synchronized List<CertifiedKey> installed() {
        return installed;
    }

    /**
     * Waits until no placeholder is served any more, at most {@code timeout}.
     *
     * @return whether only real certificates are served
     */
    synchronized boolean awaitRealCertificates(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (installed.isEmpty() || installed.stream().anyMatch(CertifiedKey::placeholder)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /**
     * Installs {@code keys} as the whole set served, unless they fail validation.
     *
     * @param changed the certificate whose change caused this, for the log line
     * @return whether the set now serves
     */
    synchronized boolean install(List<CertifiedKey> keys, Optional<CertifiedKey> changed) {
        requireNonNull(keys, "keys");
        if (keys.isEmpty()) {
            LOG.warn("Refused an empty certificate set; Jetty keeps serving {}", names(installed));
            return false;
        }
        if (sameCertificates(keys, installed)) {
            LOG.debug("Certificates {} already installed", names(keys));
            return true;
        }
        KeyStore store;
        try {
            store = KeyStores.build(keys, password.toCharArray());
        } catch (GeneralSecurityException e) {
            // The message names the certificate, never the key.
            LOG.warn("Refused certificate set {}: {}; Jetty keeps serving {}", names(keys), e.getMessage(), names(installed));
            return false;
        }
        String defaultAlias = keys.get(0).name();
        for (SslContextFactory.Server factory : factories) {
            try {
                reload(factory, store, defaultAlias);
            } catch (Exception e) {
                LOG.warn("Jetty refused certificate set {}: {}; going back to {}", names(keys), e.toString(), names(installed));
                restore();
                return false;
            }
        }
        installed = List.copyOf(keys);
        installedStore = store;
        notifyAll();
        CertifiedKey subject = changed.filter(keys::contains).orElse(keys.get(0));
        LOG.debug("Jetty now serves {} {} from {}, valid until {}{}", subject.placeholder() ? "placeholder" : "certificate",
                subject.name() + subject.names(), subject.placeholder() ? "itself" : subject.issuer(), subject.notAfter(),
                keys.size() > 1 ? " (all served: " + names(keys) + ")" : "");
        LOG.debug("Installed {} in {}", keys, factories);
        return true;
    }

    /**
     * Called under the factory's lock by {@link SslContextFactory#reload}, which then rebuilds
     * its SSL context. Before the factory starts this only sets what its start will load, so no
     * swap can slip between a check of its state and its start.
     */
    private void reload(SslContextFactory.Server factory, KeyStore store, String defaultAlias) throws Exception {
        factory.reload(f -> {
            // Drop a file key store: it would also be read as the trust store, with our password.
            f.setKeyStoreResource(null);
            f.setKeyStore(store);
            f.setKeyStorePassword(password);
            f.setKeyManagerPassword(password);
            f.setCertAlias(defaultAlias);
        });
    }

    private void restore() {
        if (installedStore == null) {
            return;
        }
        String previousAlias = installed.get(0).name();
        for (SslContextFactory.Server factory : factories) {
            try {
                reload(factory, installedStore, previousAlias);
            } catch (Exception e) {
                LOG.error("Jetty cannot go back to certificates {} either; new TLS handshakes on {} will fail until the next "
                        + "certificate arrives: {}", names(installed), factory, e.toString());
            }
        }
    }

    private static boolean sameCertificates(List<CertifiedKey> a, List<CertifiedKey> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).name().equals(b.get(i).name()) || !a.get(i).certificate().equals(b.get(i).certificate())
                    || !a.get(i).privateKey().equals(b.get(i).privateKey())) {
                return false;
            }
        }
        return true;
    }

    private static List<String> names(List<CertifiedKey> keys) {
        return keys.stream().map(k -> (k.placeholder() ? "placeholder " : "") + k.name() + " #" + k.serial()).toList();
    }

    @Override
    public String toString() {
        return "SslContextInstaller" + factories;
    }
}
