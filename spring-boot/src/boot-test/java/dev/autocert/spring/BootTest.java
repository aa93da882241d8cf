package dev.autocert.spring;

import org.apache.catalina.startup.Tomcat;
import org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.boot.web.embedded.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.WebServer;
import org.springframework.context.ApplicationContext;

/**
 * What the shared tests need of Spring Boot 3.5 by its own class names (spring-boot-4 has its own).
 * Server classes are named in methods, not fields, so a module without that server can use the rest.
 */
final class BootTest {

    /** Spring Security's auto-configuration, for {@code spring.autoconfigure.exclude}: the tests' apps run without it. */
    static final String NO_SECURITY = "org.springframework.boot.autoconfigure.security.servlet.SecurityAutoConfiguration,"
            + "org.springframework.boot.actuate.autoconfigure.security.servlet.ManagementWebSecurityAutoConfiguration";

    static Class<?> healthAutoConfiguration() {
        return HealthContributorAutoConfiguration.class;
    }

    static Class<?> healthIndicator() {
        return HealthIndicator.class;
    }

    static Class<? extends WebServer> tomcatWebServer() {
        return TomcatWebServer.class;
    }

    static Class<? extends WebServer> jettyWebServer() {
        return org.springframework.boot.web.embedded.jetty.JettyWebServer.class;
    }

    /** The Jetty line this Spring Boot manages. */
    static final String JETTY_LINE = "12.0.";

    private BootTest() {
    }

    static org.springframework.boot.web.server.ConfigurableWebServerFactory tomcatServletFactory() {
        return new org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory();
    }

    static WebServer webServer(ApplicationContext context) {
        return ((WebServerApplicationContext) context).getWebServer();
    }

    static Tomcat tomcat(WebServer server) {
        return ((TomcatWebServer) server).getTomcat();
    }

    static org.eclipse.jetty.server.Server jetty(WebServer server) {
        return ((org.springframework.boot.web.embedded.jetty.JettyWebServer) server).getServer();
    }

    /** The {@code autocert} health contributor's status and details, as actuator reads them. */
    static BootHealth health(AutocertHealthIndicator indicator) {
        var health = indicator.health();
        return new BootHealth(health.getStatus().getCode(), health.getDetails());
    }

    record BootHealth(String status, java.util.Map<String, Object> details) {
    }
}
