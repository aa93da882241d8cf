package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;
import org.springframework.boot.web.server.Ssl;
import org.springframework.context.ApplicationContext;

/** What the server customizers share. */
final class AutocertWebServers {

    private AutocertWebServers() {
    }

    /**
     * Where the plain listener of a server made by {@code factory} redirects to: {@code
     * autocert.redirect-port}; else the port the application's server is bound to when it serves
     * TLS itself, or 443 when it does not (TLS ends in front of it).
     */
    static IntSupplier httpsPort(AutocertSettings settings, AbstractConfigurableWebServerFactory factory,
            ApplicationContext context) {
        return redirectPort(settings, Ssl.isEnabled(factory.getSsl()), () -> WebServerPorts.port(context));
    }

    /**
     * Where plain requests are redirected, on every server: {@code autocert.redirect-port}; else,
     * when the server serves TLS itself, the port its HTTPS connector is bound to ({@code bound},
     * asked at each request, as it is known only once the server listens); else 443, where TLS
     * ends in front of it.
     */
    static IntSupplier redirectPort(AutocertSettings settings, boolean tls, IntSupplier bound) {
        if (settings.redirectPort().isPresent()) {
            int port = settings.redirectPort().getAsInt();
            return () -> port;
        }
        return tls ? bound : () -> 443;
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
