package dev.autocert.core;

import java.util.Locale;

/** An ACME challenge type (RFC 8555 section 8), as named in {@code autocert.challenges}. */
public enum ChallengeType {
    /** The server answers {@code /.well-known/acme-challenge/{token}} on port 80. */
    HTTP_01("http-01"),
    /** A TXT record at {@code _acme-challenge.NAME}; the only way to validate wildcards. */
    DNS_01("dns-01"),
    /**
     * A challenge certificate served on port 443 to a handshake with ALPN {@code acme-tls/1}
     * (RFC 8737), by the engine's key manager: for servers that can expose only their HTTPS port.
     */
    TLS_ALPN_01("tls-alpn-01");

    private final String id;

    ChallengeType(String id) {
        this.id = id;
    }

    /** The RFC's spelling, for example {@code http-01}. */
    public String id() {
        return id;
    }

    static ChallengeType parse(String setting, String value) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (ChallengeType type : values()) {
            if (type.id.equals(wanted)) {
                return type;
            }
        }
        throw new InvalidSettingException(setting,
                "expected a list of http-01, dns-01, tls-alpn-01 but found '" + value + "'");
    }

    @Override
    public String toString() {
        return id;
    }
}
