package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.ConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;

/**
 * Makes every web server, servlet or reactive, wait for the engine's start-up certificates, so
 * that the {@code autocert} SSL bundle exists when the server reads it; and warns when the server
 * is not one whose challenges Autocert answers (a factory of the application's own), where
 * HTTP-01 cannot succeed.
 */
final class AutocertWebServerCustomizer implements WebServerFactoryCustomizer<ConfigurableWebServerFactory> {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertWebServerCustomizer.class);

    /**
     * The factories whose challenges are answered, on Spring Boot 3.5 and 4: Tomcat and Jetty,
     * servlet or reactive ({@link TomcatFitting}, {@link JettyFitting}), Reactor Netty ({@link
     * NettyChallengeListener}), Undertow (Spring Boot 3.5's {@code AutocertUndertowCustomizer}).
     */
    private static final Set<String> ANSWERING = Set.of(
            "org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory",
            "org.springframework.boot.web.embedded.tomcat.TomcatReactiveWebServerFactory",
            "org.springframework.boot.web.embedded.jetty.JettyServletWebServerFactory",
            "org.springframework.boot.web.embedded.jetty.JettyReactiveWebServerFactory",
            "org.springframework.boot.web.embedded.netty.NettyReactiveWebServerFactory",
            "org.springframework.boot.web.embedded.undertow.UndertowServletWebServerFactory",
            "org.springframework.boot.web.embedded.undertow.UndertowReactiveWebServerFactory",
            "org.springframework.boot.tomcat.TomcatWebServerFactory",
            "org.springframework.boot.jetty.JettyWebServerFactory",
            "org.springframework.boot.reactor.netty.NettyReactiveWebServerFactory");

    private final CertificateManager manager;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertWebServerCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        this.manager = manager;
    }

    @Override
    public void customize(ConfigurableWebServerFactory factory) {
        if (manager.settings().answersHttp01() && !answers(factory.getClass())) {
            LOG.warn("Autocert answers HTTP-01 challenges on Spring Boot's embedded Tomcat, Jetty, Reactor Netty and "
                    + "Undertow, not on {}: certificates cannot be obtained with http-01 unless another server answers {} on "
                    + "port {}", factory.getClass().getSimpleName(), "/.well-known/acme-challenge/", manager.settings().httpPort());
        }
    }

    /** Whether the challenges of a server made by {@code type}, or a subclass of such a factory, are answered. */
    static boolean answers(Class<?> type) {
        return isA(type, ANSWERING);
    }

    /** Whether {@code type} is one of {@code names}, or a subclass of one. */
    static boolean isA(Class<?> type, Set<String> names) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (names.contains(c.getName())) {
                return true;
            }
        }
        return false;
    }
}
