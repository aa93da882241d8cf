package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateListener;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.FileStorage;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.core.Storage;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;

class AutocertAutoConfigurationTest {

    /** A CA no one answers at: the engine's background orders fail fast, and nothing leaves the machine. */
    private static final String UNREACHABLE_CA = "https://localhost:9/dir";

    @TempDir
    Path storage;

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, AutocertAutoConfiguration.class))
                .withPropertyValues("autocert.ca=" + UNREACHABLE_CA, "autocert.storage=" + storage);
    }

    @Test
    void doesNothingWithoutDomains() {
        runner().run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(CertificateManager.class);
            assertThat(context).doesNotHaveBean(AutocertLifecycle.class);
            assertThat(context.getBean(SslBundles.class).getBundleNames()).doesNotContain("autocert");
        });
    }

    /**
     * The bundle's key store, which Spring Boot builds the HTTPS connector from, holds the default
     * certificate alone; its key managers are the engine's, which serve every certificate.
     */
    @Test
    void registersTheAutocertBundleWithPlaceholdersBeforeTheServerStarts() {
        runner().withPropertyValues("autocert.domains=example.test,www.example.test;api.example.test").run(context -> {
            assertThat(context).hasSingleBean(CertificateManager.class);
            CertificateManager manager = context.getBean(CertificateManager.class);
            SslBundle bundle = context.getBean(SslBundles.class).getBundle("autocert");
            KeyStore store = bundle.getStores().getKeyStore();
            assertThat(java.util.Collections.list(store.aliases())).containsExactly("example.test");
            assertThat(store.getCertificate("example.test")).isEqualTo(manager.certificate("example.test").orElseThrow().certificate());
            assertThat(bundle.getKey().getAlias()).isEqualTo("example.test");
            assertThat(bundle.getManagers().getKeyManagers()).containsExactly(manager.keyManager());
            assertThat(bundle.createSslContext()).isNotNull();
            assertThat(manager.certificates()).hasSize(2).allMatch(k -> k.placeholder());
        });
    }

    @Test
    void bundleCarriesTheServersProtocolsAndCiphers() {
        runner().withPropertyValues("autocert.domains=example.test", "server.ssl.enabled-protocols=TLSv1.3",
                "server.ssl.ciphers=TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256").run(context -> {
                    SslBundle bundle = context.getBean(SslBundles.class).getBundle("autocert");
                    assertThat(bundle.getOptions().getEnabledProtocols()).containsExactly("TLSv1.3");
                    assertThat(bundle.getOptions().getCiphers()).containsExactly("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256");
                });
    }

    @Test
    void bindsPropertiesThroughCore() {
        runner().withPropertyValues("autocert.domains=example.test", "autocert.key-type=rsa-3072", "autocert.http-port=8080",
                "autocert.challenges=http-01", "autocert.email=admin@example.test").run(context -> {
                    AutocertSettings settings = context.getBean(AutocertSettings.class);
                    assertThat(settings.keyType().toString()).containsIgnoringCase("rsa");
                    assertThat(settings.httpPort()).isEqualTo(8080);
                    assertThat(settings.email()).contains("admin@example.test");
                    assertThat(settings.storage()).contains(storage);
                    assertThat(context.getBean(CertificateManager.class).storage()).isInstanceOf(FileStorage.class);
                });
    }

    @Test
    void storageDefaultsToAutocertInTheWorkingDirectory() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, AutocertAutoConfiguration.class))
                .withPropertyValues("autocert.domains=example.test", "autocert.ca=" + UNREACHABLE_CA)
                .withBean(Storage.class, () -> new FileStorage(storage)) // keeps the test from writing to the working directory
                .run(context -> assertThat(context.getBean(AutocertSettings.class).storage())
                        .contains(Path.of(System.getProperty("user.dir"), "autocert")));
    }

    @Test
    void usesTheApplicationsStorage(@TempDir Path other) {
        FileStorage mine = new FileStorage(other);
        runner().withPropertyValues("autocert.domains=example.test").withBean(Storage.class, () -> mine).run(context -> {
            assertThat(context.getBean(CertificateManager.class).storage()).isSameAs(mine);
        });
    }

    @Test
    void startsAndStopsTheApplicationsCertificateManager() {
        CertificateManager mine = CertificateManager.builder(AutocertSettings.builder().domains("mine.example.test")
                .ca(UNREACHABLE_CA).storage(storage).build()).build();
        runner().withPropertyValues("autocert.domains=example.test").withBean(CertificateManager.class, () -> mine)
                .run(context -> {
                    assertThat(context.getBean(CertificateManager.class)).isSameAs(mine);
                    assertThat(context.getBean(SslBundles.class).getBundle("autocert").getKey().getAlias())
                            .isEqualTo("mine.example.test");
                    assertThat(context.getBean(AutocertLifecycle.class).isRunning()).isTrue();
                });
        assertThat(mine.certificate("mine.example.test")).isPresent();
    }

    @Test
    void listenerBeansHearTheStartUpCertificates() {
        List<CertificateEvent> heard = new CopyOnWriteArrayList<>();
        runner().withPropertyValues("autocert.domains=example.test")
                .withBean(CertificateListener.class, () -> heard::add)
                .run(context -> assertThat(heard).extracting(CertificateEvent::type)
                        .containsExactly(CertificateEvent.Type.PLACEHOLDER));
    }

    @Test
    void anInvalidValueFailsStartUpNamingTheProperty() {
        runner().withPropertyValues("autocert.domains=example.test", "autocert.key-type=ec256").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().isInstanceOf(InvalidSettingException.class)
                    .hasMessageStartingWith("autocert.key-type: expected one of ec-p256");
        });
    }

    @Test
    void anUnknownPropertyFailsStartUp() {
        runner().withPropertyValues("autocert.domains=example.test", "autocert.agree-to=true").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().isInstanceOf(UnboundConfigurationPropertiesException.class)
                    .hasMessageContaining("autocert.agree-to");
        });
    }

    @Test
    void customizesTomcatAndJettyOnlyInServletApplications() {
        new WebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, AutocertAutoConfiguration.class))
                .withPropertyValues("autocert.domains=example.test", "autocert.ca=" + UNREACHABLE_CA, "autocert.storage=" + storage)
                .run(context -> {
                    assertThat(context).hasSingleBean(AutocertTomcatCustomizer.class);
                    assertThat(context).hasSingleBean(AutocertJettyCustomizer.class);
                    assertThat(context).hasSingleBean(AutocertWebServerCustomizer.class);
                });
        new WebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, AutocertAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader(Tomcat.class, Server.class))
                .withPropertyValues("autocert.domains=example.test", "autocert.ca=" + UNREACHABLE_CA, "autocert.storage=" + storage)
                .run(context -> {
                    assertThat(context).doesNotHaveBean(AutocertTomcatCustomizer.class);
                    assertThat(context).doesNotHaveBean(AutocertJettyCustomizer.class);
                    assertThat(context).hasSingleBean(CertificateManager.class);
                });
        runner().withPropertyValues("autocert.domains=example.test").run(context -> {
            assertThat(context).doesNotHaveBean(AutocertTomcatCustomizer.class);
            assertThat(context).doesNotHaveBean(AutocertJettyCustomizer.class);
        });
    }

    @Test
    void contributesHealthAndEndpointWithActuator() {
        ApplicationContextRunner actuator = runner().withPropertyValues("autocert.domains=example.test")
                .withConfiguration(AutoConfigurations.of(BootTest.healthAutoConfiguration(), EndpointAutoConfiguration.class));
        actuator.run(context -> {
            assertThat(context).hasSingleBean(AutocertHealthIndicator.class);
            assertThat(context).hasBean("autocertHealthIndicator");
            assertThat(context).doesNotHaveBean(AutocertEndpoint.class); // not exposed
        });
        actuator.withPropertyValues("management.endpoints.web.exposure.include=autocert")
                .run(context -> assertThat(context).hasSingleBean(AutocertEndpoint.class));
        actuator.withPropertyValues("management.health.autocert.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(AutocertHealthIndicator.class));
        actuator.withClassLoader(new FilteredClassLoader(BootTest.healthIndicator())).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(AutocertHealthIndicator.class);
            assertThat(context).doesNotHaveBean(AutocertEndpoint.class);
        });
    }
}
