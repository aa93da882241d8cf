package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The JSSE key manager that picks each handshake's certificate from the engine's current set:
 * the exact SNI name, then a wildcard covering it, then the default (the first configured
 * certificate, for clients that send no SNI, such as those connecting to an IP address); among
 * the keys for a name, one of the type the client accepts. With on-demand TLS, a name nothing
 * covers may get a certificate obtained during its first handshake. Install it once per connector
 * ({@link CertificateManager#keyManager()}); a new certificate is served from the very next
 * handshake, with nothing rebuilt, and open connections keep their session.
 *
 * <p>Thread-safe and lock-free: a handshake reads one immutable {@link CertificateSet}. The
 * alias it returns names one key and certificate; a set replaced between choosing an alias and
 * reading its key still answers from the set that chose it.
 */
public final class SniKeyManager extends X509ExtendedKeyManager {

    private final Supplier<CertificateSet> current;
    /** Keys for a name nothing covers, obtained on demand; null when on-demand TLS is off. */
    private final java.util.function.Function<String, List<CertifiedKey>> onDemand;
    /** The set before the current one, for an alias chosen just before a swap. */
    private volatile CertificateSet previous = CertificateSet.EMPTY;
    private volatile CertificateSet last = CertificateSet.EMPTY;

    SniKeyManager(Supplier<CertificateSet> current) {
        this(current, null);
    }

    SniKeyManager(Supplier<CertificateSet> current, java.util.function.Function<String, List<CertifiedKey>> onDemand) {
        this.current = requireNonNull(current, "current");
        this.onDemand = onDemand;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return choose(keyType, engine == null ? null : engine.getHandshakeSession());
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return choose(keyType, socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null);
    }

    private String choose(String keyType, SSLSession handshake) {
        CertificateSet set = set();
        String serverName = serverName(handshake);
        List<CertifiedKey> keys = set.match(serverName);
        if (keys == null && serverName != null && onDemand != null) {
            keys = onDemand.apply(serverName); // may wait a bounded time for a new certificate
        }
        if (keys == null || keys.isEmpty()) {
            keys = set().defaults();
        }
        for (CertifiedKey key : keys) {
            if (matches(key, keyType)) {
                return CertificateSet.alias(key);
            }
        }
        return null; // JSSE then tries the next key type the client accepts
    }

    /** The SNI host name the client sent, or null. */
    static String serverName(SSLSession handshake) {
        if (handshake instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name.getType() == StandardConstants.SNI_HOST_NAME) {
                    return name instanceof SNIHostName host ? host.getAsciiName()
                            : new String(name.getEncoded(), java.nio.charset.StandardCharsets.US_ASCII);
                }
            }
        }
        return null;
    }

    /** Whether {@code key} can serve a handshake that asks for {@code keyType} ({@code EC}, {@code RSA}, {@code RSASSA-PSS}). */
    static boolean matches(CertifiedKey key, String keyType) {
        String algorithm = key.privateKey().getAlgorithm();
        if (keyType == null) {
            return true;
        }
        return switch (keyType) {
            case "EC", "ECDSA", "EC_EC", "EC_RSA" -> algorithm.equals("EC");
            case "RSA", "RSASSA-PSS", "DHE_RSA", "ECDHE_RSA", "RSA_EXPORT" -> algorithm.equals("RSA");
            default -> algorithm.equalsIgnoreCase(keyType);
        };
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        CertifiedKey key = find(alias);
        return key == null ? null : key.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        CertifiedKey key = find(alias);
        return key == null ? null : key.privateKey();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        List<String> aliases = set().aliases(keyType);
        return aliases.isEmpty() ? null : aliases.toArray(String[]::new);
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
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }

    /** The certified key an alias names, for adapters that must know what a handshake was served. */
    public java.util.Optional<CertifiedKey> certifiedKey(String alias) {
        return java.util.Optional.ofNullable(find(alias));
    }

    private CertifiedKey find(String alias) {
        if (alias == null) {
            return null;
        }
        CertifiedKey key = set().byAlias(alias);
        return key != null ? key : previous.byAlias(alias);
    }

    private CertificateSet set() {
        CertificateSet set = current.get();
        if (set != last) {
            synchronized (this) {
                if (set != last) {
                    previous = last;
                    last = set;
                }
            }
        }
        return set;
    }
}
