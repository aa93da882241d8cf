package dev.autocert.spring;

import org.slf4j.Logger;
import org.springframework.boot.web.server.Ssl;

/** What the server customizers share. */
final class AutocertWebServers {

    private AutocertWebServers() {
    }

    /** Says, once per server, that the server does not serve Autocert's certificates and why. */
    static void logNotServed(Logger log, Ssl ssl) {
        if (!Ssl.isEnabled(ssl)) {
            log.warn("The web server does not use SSL: Autocert obtains and renews certificates, but the server does "
                    + "not serve them. Set server.ssl.bundle={} (and remove server.ssl.enabled=false if it is set)",
                    AutocertSslBundle.NAME);
        } else {
            log.info("The web server uses SSL bundle {} (server.ssl.* is configured): Autocert's certificates are in SSL "
                    + "bundle '{}' but not served. Set server.ssl.bundle={} and remove other server.ssl key settings to "
                    + "serve them", ssl.getBundle() == null ? "from server.ssl.key-store or server.ssl.certificate"
                            : "'" + ssl.getBundle() + "'", AutocertSslBundle.NAME, AutocertSslBundle.NAME);
        }
    }
}
