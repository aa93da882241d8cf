package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;

@ExtendWith(OutputCaptureExtension.class)
class InvalidSettingFailureAnalyzerTest {

    @TempDir
    Path storage;

    @Test
    void aBadPropertyFailsStartUpWithAnAnalysisNamingIt(CapturedOutput output) {
        assertThatThrownBy(() -> run("--spring.config.location=classpath:invalid-key-type.properties"))
                .hasRootCauseMessage("autocert.key-type: expected one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 "
                        + "but was 'ec256'");

        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Autocert cannot start: the property 'autocert.key-type' is invalid.")
                .contains("Value: \"ec256\"")
                .contains("Origin: class path resource [invalid-key-type.properties] - 4:19")
                .contains("Reason: expected one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 but was 'ec256'")
                .contains("Update 'autocert.key-type' (from class path resource [invalid-key-type.properties] - 4:19): "
                        + "expected one of");
    }

    @Test
    void theFixComesFromCore(CapturedOutput output) {
        assertThatThrownBy(() -> run("--autocert.domains=example.test", "--autocert.ca=letsencrypt"));

        assertThat(output).contains("the property 'autocert.agree-tos' is invalid")
                .contains("letsencrypt requires accepting its terms of service; read them and set autocert.agree-tos=true");
    }

    @Test
    void neverShowsTheHmacKey() {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new org.springframework.core.env.MapPropertySource("test",
                java.util.Map.of("autocert.eab-hmac-key", "not*base64url*secret")));
        Throwable failure = null;
        try {
            dev.autocert.core.AutocertSettings.builder().domains("example.test").ca("https://ca.example.test/dir")
                    .externalAccountBinding("kid", "not*base64url*secret").build();
        } catch (RuntimeException e) {
            failure = e;
        }

        FailureAnalysis analysis = new InvalidSettingFailureAnalyzer(environment).analyze(failure);

        assertThat(analysis.getDescription()).contains("autocert.eab-hmac-key").contains("Value: (hidden)")
                .doesNotContain("secret");
        assertThat(analysis.getAction()).doesNotContain("secret");
    }

    private void run(String... args) {
        SpringApplication application = new SpringApplication(App.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        String[] all = new String[args.length + 1];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--autocert.storage=" + storage;
        application.run(all).close();
    }

    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
    }
}
