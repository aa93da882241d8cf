package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
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
 *
 * <p>TLS-ALPN-01 (RFC 8737): a handshake that negotiated ALPN {@code acme-tls/1} is served the
 * challenge certificate of its SNI name while the CA validates it, and nothing else; the server
 * negotiates {@code acme-tls/1} once {@link #enableTlsAlpn01(SSLEngine)} was called on its engine.
 * While no challenge is pending, choosing a certificate costs what it did without TLS-ALPN-01.
 */
public final class SniKeyManager extends X509ExtendedKeyManager {

    private final Supplier<CertificateSet> current;
    /** Keys for a name nothing covers, obtained on demand; null when on-demand TLS is off. */
    private final java.util.function.Function<String, List<CertifiedKey>> onDemand;
    /** The TLS-ALPN-01 challenges being validated; null when this key manager answers none. */
    private final TlsAlpn01Solver tlsAlpn01;
    /** The set before the current one, for an alias chosen just before a swap. */
    private volatile CertificateSet previous = CertificateSet.EMPTY;
    private volatile CertificateSet last = CertificateSet.EMPTY;

    SniKeyManager(Supplier<CertificateSet> current) {
        this(current, null);
    }

    SniKeyManager(Supplier<CertificateSet> current, java.util.function.Function<String, List<CertifiedKey>> onDemand) {
        this(current, onDemand, null);
    }

    SniKeyManager(Supplier<CertificateSet> current, java.util.function.Function<String, List<CertifiedKey>> onDemand,
            TlsAlpn01Solver tlsAlpn01) {
        this.current = requireNonNull(current, "current");
        this.onDemand = onDemand;
        this.tlsAlpn01 = tlsAlpn01;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        if (engine != null && tlsAlpn01 != null && !tlsAlpn01.isEmpty()
                && TlsAlpn01Solver.ACME_TLS_1.equals(engine.getHandshakeApplicationProtocol())) {
            return challenge(keyType, engine.getHandshakeSession());
        }
        return choose(keyType, engine == null ? null : engine.getHandshakeSession());
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        SSLSocket ssl = socket instanceof SSLSocket s ? s : null;
        if (ssl != null && tlsAlpn01 != null && !tlsAlpn01.isEmpty()
                && TlsAlpn01Solver.ACME_TLS_1.equals(ssl.getHandshakeApplicationProtocol())) {
            return challenge(keyType, ssl.getHandshakeSession());
        }
        return choose(keyType, ssl == null ? null : ssl.getHandshakeSession());
    }

    /**
     * The challenge certificate for an {@code acme-tls/1} handshake, or null, failing the
     * handshake, when none is pending for its SNI name (RFC 8737 section 3: such a handshake is
     * never served a real certificate).
     */
    private String challenge(String keyType, SSLSession handshake) {
        TlsAlpn01Solver.Challenge challenge = tlsAlpn01.forServerName(serverName(handshake));
        if (challenge == null || !matches(challenge.privateKey(), keyType)) {
            return null;
        }
        return challenge.alias();
    }

    /**
     * Lets {@code engine}, a server engine before its handshake, answer TLS-ALPN-01: a client
     * offering ALPN {@code acme-tls/1} alone, as a CA validating does, negotiates it when a
     * challenge is pending for its SNI name and fails the handshake otherwise. Every other client
     * negotiates exactly what it would without this: the first of the engine's own application
     * protocols ({@link javax.net.ssl.SSLParameters#setApplicationProtocols}, read at the
     * handshake, so they may be set after this call) that it offers, none when the engine has
     * none, and a failed handshake when it has some but the client offers none of them.
     *
     * <p>It installs a {@linkplain SSLEngine#setHandshakeApplicationProtocolSelector selector}, so
     * a selector set on the engine afterwards replaces it. Validation needs TLS 1.3 (Java's TLS 1.2
     * chooses the certificate before the protocol), which every ACME CA's validator offers.
     */
    public void enableTlsAlpn01(SSLEngine engine) {
        requireNonNull(engine, "engine");
        if (tlsAlpn01 != null) {
            engine.setHandshakeApplicationProtocolSelector(
                    (e, offered) -> selectProtocol(offered, e.getSSLParameters().getApplicationProtocols(), e.getHandshakeSession()));
        }
    }

    /** {@link #enableTlsAlpn01(SSLEngine)} for a server socket's connection, before its handshake. */
    public void enableTlsAlpn01(SSLSocket socket) {
        requireNonNull(socket, "socket");
        if (tlsAlpn01 != null) {
            socket.setHandshakeApplicationProtocolSelector(
                    (s, offered) -> selectProtocol(offered, s.getSSLParameters().getApplicationProtocols(), s.getHandshakeSession()));
        }
    }

    /**
     * The ALPN protocol for a client offering {@code offered}: {@code acme-tls/1} for a validation
     * with a pending challenge, otherwise what JSSE itself picks from {@code own}; "" for none,
     * null to fail the handshake.
     */
    private String selectProtocol(List<String> offered, String[] own, SSLSession handshake) {
        if (offered.size() == 1 && offered.get(0).equals(TlsAlpn01Solver.ACME_TLS_1)) {
            // Go's and CertMagic's rule: a validation offers acme-tls/1 and nothing else.
            if (tlsAlpn01.forServerName(serverName(handshake)) == null) {
                return null;
            }
            if (handshake != null && !"TLSv1.3".equals(handshake.getProtocol())) {
                // Under TLS 1.2 the certificate is already chosen: the CA would see a real one.
                return null;
            }
            return TlsAlpn01Solver.ACME_TLS_1;
        }
        if (own == null || own.length == 0) {
            return "";
        }
        return Arrays.stream(own).filter(offered::contains).findFirst().orElse(null);
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
        return matches(key.privateKey(), keyType);
    }

    private static boolean matches(PrivateKey key, String keyType) {
        String algorithm = key.getAlgorithm();
        if (keyType == null) {
            return true;
        }
        return switch (keyType) {
            case "EC", "ECDSA", "EC_EC", "EC_RSA" -> algorithm.equals("EC") || algorithm.equals("ECDSA");
            case "RSA", "RSASSA-PSS", "DHE_RSA", "ECDHE_RSA", "RSA_EXPORT" -> algorithm.equals("RSA");
            default -> algorithm.equalsIgnoreCase(keyType);
        };
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        TlsAlpn01Solver.Challenge challenge = challengeByAlias(alias);
        if (challenge != null) {
            return new X509Certificate[] {challenge.certificate()};
        }
        CertifiedKey key = find(alias);
        return key == null ? null : key.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        TlsAlpn01Solver.Challenge challenge = challengeByAlias(alias);
        if (challenge != null) {
            return challenge.privateKey();
        }
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

    private TlsAlpn01Solver.Challenge challengeByAlias(String alias) {
        return tlsAlpn01 != null && alias != null && alias.startsWith(TlsAlpn01Solver.ALIAS_PREFIX) ? tlsAlpn01.forAlias(alias) : null;
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
