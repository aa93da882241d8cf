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
import org.springframework.boot.web.embedded.tomcat.TomcatReactiveWebServerFactory;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;

@ExtendWith(OutputCaptureExtension.class)
class AutocertWebServerCustomizerTest {

    @Test
    void warnsWhenTheServerCannotAnswerChallenges(@TempDir Path storage, CapturedOutput output) {
        CertificateManager manager = CertificateManager.builder(AutocertSettings.builder().domains("example.test")
                .ca("https://localhost:9/dir").storage(storage).build()).build();
        AutocertWebServerCustomizer customizer = new AutocertWebServerCustomizer(null, manager);

        customizer.customize(new TomcatServletWebServerFactory());
        assertThat(output).doesNotContain("Autocert answers HTTP-01 challenges");

        customizer.customize(new TomcatReactiveWebServerFactory());
        assertThat(output).contains("Autocert answers HTTP-01 challenges on embedded Tomcat and Jetty servlet servers only, "
                + "not on TomcatReactiveWebServerFactory");
    }
}
