package dev.autocert.jetty;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.SniKeyManager;
import java.util.List;
import java.util.function.BiFunction;
import javax.net.ssl.SSLEngine;

/**
 * The ALPN selector of an engine that answers TLS-ALPN-01 (RFC 8737) ahead of the server's own
 * protocol selection: a handshake offering {@code acme-tls/1} for a name being validated gets
 * {@code acme-tls/1} (from {@link SniKeyManager#enableTlsAlpn01(SSLEngine)}), and every other
 * handshake gets what the server's selector chooses, exactly as without Autocert. With no selector
 * of the server's (a connector without ALPN), the engine's own application protocols decide, as
 * JSSE does.
 *
 * <p>Jetty's ALPN connection factory (HTTP/2) sets a selector of its own on each engine, after
 * the engine is made, which would replace Autocert's; {@link TlsAlpn01ConnectionListener} puts
 * this one back in front of it, before the handshake. Thread-safe: a selector belongs to one
 * engine and holds no state of its own.
 */
final class TlsAlpn01Selector implements BiFunction<SSLEngine, List<String>, String> {

    /** RFC 8737's ALPN protocol for a validation. */
    private static final String ACME_TLS_1 = "acme-tls/1";

    /** Core's: {@code acme-tls/1} for a pending validation, otherwise JSSE's rule on the engine's protocols. */
    private final BiFunction<SSLEngine, List<String>, String> challenges;
    /** The server's own selector, or null when it has none. */
    private final BiFunction<SSLEngine, List<String>, String> server;

    private TlsAlpn01Selector(BiFunction<SSLEngine, List<String>, String> challenges,
            BiFunction<SSLEngine, List<String>, String> server) {
        this.challenges = requireNonNull(challenges, "challenges");
        this.server = server;
    }

    /**
     * Makes {@code engine}, before its handshake, answer TLS-ALPN-01 ahead of the selector it has
     * now, if any. Does nothing when it does so already, or when {@code keyManager} answers no
     * TLS-ALPN-01 challenges ({@code tls-alpn-01} is not among {@code autocert.challenges}).
     */
    static void install(SSLEngine engine, SniKeyManager keyManager) {
        BiFunction<SSLEngine, List<String>, String> current = engine.getHandshakeApplicationProtocolSelector();
        if (current instanceof TlsAlpn01Selector) {
            return;
        }
        keyManager.enableTlsAlpn01(engine);
        BiFunction<SSLEngine, List<String>, String> challenges = engine.getHandshakeApplicationProtocolSelector();
        if (challenges != null && challenges != current) {
            engine.setHandshakeApplicationProtocolSelector(new TlsAlpn01Selector(challenges, current));
        }
    }

    @Override
    public String apply(SSLEngine engine, List<String> offered) {
        if (server == null) {
            return challenges.apply(engine, offered);
        }
        if (offered.contains(ACME_TLS_1) && ACME_TLS_1.equals(challenges.apply(engine, offered))) {
            return ACME_TLS_1;
        }
        return server.apply(engine, offered);
    }
}
