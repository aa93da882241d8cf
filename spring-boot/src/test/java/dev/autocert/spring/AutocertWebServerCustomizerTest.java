package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;

@ExtendWith(OutputCaptureExtension.class)
class AutocertWebServerCustomizerTest {

    @Test
    void warnsWhenTheServerCannotAnswerChallenges(@TempDir Path storage, CapturedOutput output) {
        try (CertificateManager manager = CertificateManager.builder(AutocertSettings.builder().domains("example.test")
                .ca("https://localhost:9/dir").storage(storage).build()).build()) {
            AutocertWebServerCustomizer customizer = new AutocertWebServerCustomizer(null, manager);

            customizer.customize(BootTest.tomcatServletFactory());
            assertThat(output).doesNotContain("Autocert answers HTTP-01 challenges");

            customizer.customize(new OwnFactory());
            assertThat(output).contains("Autocert answers HTTP-01 challenges on Spring Boot's embedded Tomcat, Jetty, "
                    + "Reactor Netty and Undertow, not on OwnFactory");
        }
    }

    /** A server factory of the application's own, which Autocert does not know how to fit. */
    private static final class OwnFactory extends AbstractConfigurableWebServerFactory {
    }
}
