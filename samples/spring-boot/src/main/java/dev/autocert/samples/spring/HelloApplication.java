package dev.autocert.samples.spring;

import dev.autocert.core.CertificateEvent;
import dev.autocert.spring.AutocertCertificateEvent;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.event.EventListener;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Spring Boot application with automatic HTTPS: the starter on the classpath and three
 * properties, nothing else. It serves a hello page on HTTPS with a certificate it obtains itself.
 *
 * <pre>
 * java -jar target/autocert-sample-spring-boot-0.1.0-SNAPSHOT.jar \
 *      --autocert.domains=example.com,www.example.com --autocert.email=you@example.com
 * </pre>
 *
 * The names must point at this machine, and ports 80 and 443 must reach it. See
 * {@code src/main/resources/application.properties} and docs/spring-boot.md.
 */
@SpringBootApplication
@RestController
public class HelloApplication {

    private static final Logger LOG = LoggerFactory.getLogger(HelloApplication.class);

    public static void main(String[] args) {
        SpringApplication.run(HelloApplication.class, args);
    }

    @GetMapping("/")
    String hello(HttpServletRequest request) {
        return "Hello from " + request.getServerName() + " over " + request.getScheme() + "\n";
    }

    /** Optional: the application hears of every certificate event, for example to alert on failures. */
    @EventListener
    void onCertificate(AutocertCertificateEvent event) {
        CertificateEvent certificate = event.getEvent();
        if (certificate.type() == CertificateEvent.Type.FAILED || certificate.type() == CertificateEvent.Type.EXPIRING) {
            LOG.warn("Certificate {} needs attention: {}", certificate.name(),
                    certificate.cause().map(Throwable::getMessage).orElse("unknown"));
        }
    }
}
