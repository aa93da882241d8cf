package dev.autocert.spring;

import dev.autocert.core.CertificateManager;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;
import org.springframework.boot.web.server.ConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.ApplicationContext;

/** Asks for the {@link NettyChallengeListener} when the application's server is Reactor Netty, on Spring Boot 3.5 or 4. */
final class NettyListenerCustomizer implements WebServerFactoryCustomizer<ConfigurableWebServerFactory> {

    private static final Logger LOG = LoggerFactory.getLogger(NettyListenerCustomizer.class);
    private static final Set<String> NETTY = Set.of(
            "org.springframework.boot.web.embedded.netty.NettyReactiveWebServerFactory",
            "org.springframework.boot.reactor.netty.NettyReactiveWebServerFactory");

    private final CertificateManager manager;
    private final NettyChallengeListener listener;
    private final ApplicationContext context;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    NettyListenerCustomizer(AutocertLifecycle lifecycle, CertificateManager manager, NettyChallengeListener listener,
            ApplicationContext context) {
        this.manager = manager;
        this.listener = listener;
        this.context = context;
    }

    @Override
    public void customize(ConfigurableWebServerFactory factory) {
        if (!manager.settings().answersHttp01() || !AutocertWebServerCustomizer.isA(factory.getClass(), NETTY)
                || !(factory instanceof AbstractConfigurableWebServerFactory netty)) {
            return;
        }
        if (netty.getPort() == manager.settings().httpPort()) {
            LOG.warn("Reactor Netty listens on autocert.http-port {} itself, where Autocert cannot answer HTTP-01 challenges: "
                    + "set server.port to the HTTPS port, or use autocert.challenges=dns-01", netty.getPort());
            return;
        }
        listener.listenFor(netty.getAddress(), AutocertWebServers.httpsPort(manager.settings(), netty, context));
    }
}
