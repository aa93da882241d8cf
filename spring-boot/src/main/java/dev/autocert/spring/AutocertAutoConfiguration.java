package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertificateManager;

import dev.autocert.core.Storage;
import dev.autocert.jetty.AcmeChallengeHandler;
import dev.autocert.tomcat.AcmeChallengeValve;
import java.nio.file.Path;
import java.time.Clock;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.server.Server;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.ssl.SslBundleRegistry;
import org.springframework.boot.ssl.SslOptions;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;

/**
 * Automatic HTTPS for a Spring Boot application: when {@code autocert.domains} is set, runs a
 * {@link CertificateManager} that obtains and renews the certificates, registers the {@code
 * autocert} SSL bundle (which {@code server.ssl.bundle} names by default) and, on embedded Tomcat
 * or Jetty, gives the HTTPS connector the engine's key manager, which serves every certificate by
 * SNI and each new one from the next handshake (WebFlux on Reactor Netty and Undertow build their
 * SSL from the bundle's key manager, which does the same); answers the CA's HTTP-01 challenges on
 * {@code autocert.http-port}, with a plain connector on Tomcat, Jetty and Undertow and a {@link
 * NettyChallengeListener} on Reactor Netty; and, with actuator, reports the certificates'
 * health, an {@code autocert} endpoint and Micrometer meters. Engine events are published as {@link AutocertCertificateEvent}s; every {@link
 * CertificateListener} bean hears them too.
 *
 * <p>Replaceable beans: {@link AutocertSettings} (settings built in code instead of from
 * {@code autocert.*}), {@link Storage} (another store than the directory {@code
 * autocert.storage}), {@link CertificateManager} (an engine built in code; the starter starts
 * and stops it, so do not start it yourself).
 */
@AutoConfiguration(after = SslAutoConfiguration.class)
@ConditionalOnProperty(prefix = "autocert", name = "domains")
@EnableConfigurationProperties(AutocertProperties.class)
public class AutocertAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    AutocertSettings autocertSettings(AutocertProperties properties) {
        return properties.toSettings(workingDirectory());
    }

    @Bean
    @ConditionalOnMissingBean
    Storage autocertStorage(AutocertSettings settings) {
        return Storage.of(settings, workingDirectory().resolve("autocert"));
    }

    @Bean
    @ConditionalOnMissingBean
    CertificateManager certificateManager(AutocertSettings settings, Storage storage) {
        return CertificateManager.builder(settings).storage(storage).build();
    }

    @Bean
    AutocertSslBundle autocertSslBundle(SslBundleRegistry registry, CertificateManager manager, Environment environment) {
        // With a bundle, Spring Boot takes protocols and ciphers from the bundle, not from server.ssl.
        Binder binder = Binder.get(environment);
        SslOptions options = SslOptions.of(binder.bind("server.ssl.ciphers", String[].class).orElse(null),
                binder.bind("server.ssl.enabled-protocols", String[].class).orElse(null));
        return new AutocertSslBundle(registry, manager, options);
    }

    @Bean
    CertificateStatuses autocertCertificateStatuses(CertificateManager manager) {
        return new CertificateStatuses(manager.settings().certificates());
    }

    @Bean
    ApplicationEventBridge autocertApplicationEventBridge(ApplicationEventPublisher publisher, CertificateManager manager) {
        return new ApplicationEventBridge(publisher, manager);
    }

    @Bean
    AutocertLifecycle autocertLifecycle(CertificateManager manager, AutocertSslBundle bundle,
            ObjectProvider<CertificateListener> listeners) {
        return new AutocertLifecycle(manager, bundle, listeners.orderedStream().toList());
    }

    @Bean
    @ConditionalOnWebApplication
    AutocertWebServerCustomizer autocertWebServerCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
        return new AutocertWebServerCustomizer(lifecycle, manager);
    }

    private static Path workingDirectory() {
        return Path.of(System.getProperty("user.dir"));
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({ Tomcat.class, AcmeChallengeValve.class })
    @ConditionalOnWebApplication // servlet or reactive
    static class TomcatConfiguration {

        @Bean
        AutocertTomcatCustomizer autocertTomcatCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
            return new AutocertTomcatCustomizer(lifecycle, manager);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({ Server.class, AcmeChallengeHandler.class })
    @ConditionalOnWebApplication // servlet or reactive
    static class JettyConfiguration {

        @Bean
        AutocertJettyCustomizer autocertJettyCustomizer(AutocertLifecycle lifecycle, CertificateManager manager) {
            return new AutocertJettyCustomizer(lifecycle, manager);
        }
    }

    /**
     * WebFlux, whatever its server: HSTS from a filter (Reactor Netty has no connector to fit). On
     * Tomcat and Jetty the server's own valve or handler sends it too; whichever sets the header
     * first, the other leaves it, so it is sent once.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.web.server.WebFilter")
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    static class ReactiveConfiguration {

        @Bean
        HstsWebFilter autocertHstsWebFilter(CertificateManager manager) {
            return new HstsWebFilter(manager.settings().hsts());
        }
    }

    /** WebFlux on Reactor Netty: HTTP-01 on a second Reactor Netty server, as Spring Boot's binds one port. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "reactor.netty.http.server.HttpServer")
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    static class NettyConfiguration {

        @Bean
        NettyChallengeListener autocertNettyChallengeListener(CertificateManager manager) {
            return new NettyChallengeListener(manager.http01Tokens(), manager.settings().httpPort());
        }

        @Bean
        NettyListenerCustomizer autocertNettyListenerCustomizer(AutocertLifecycle lifecycle, CertificateManager manager,
                NettyChallengeListener listener, ApplicationContext context) {
            return new NettyListenerCustomizer(lifecycle, manager, listener, context);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.binder.MeterBinder")
    static class MetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        AutocertMeterBinder autocertMeterBinder(CertificateManager manager) {
            return new AutocertMeterBinder(manager, Clock.systemUTC());
        }
    }

    @Configuration(proxyBeanMethods = false)
    @Import(AutocertHealthConfiguration.class)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class ActuatorConfiguration {

        @Bean
        @ConditionalOnAvailableEndpoint
        @ConditionalOnMissingBean
        AutocertEndpoint autocertEndpoint(CertificateStatuses statuses, CertificateManager manager) {
            return new AutocertEndpoint(statuses, manager::status, Clock.systemUTC());
        }
    }
}
