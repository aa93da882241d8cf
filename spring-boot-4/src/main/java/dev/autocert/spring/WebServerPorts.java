package dev.autocert.spring;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.boot.web.server.WebServer;
import org.springframework.context.ApplicationContext;

/** The port Spring Boot 4's web server listens on. */
final class WebServerPorts {

    private WebServerPorts() {
    }

    /** The application's web server's port, once it listens; -1 before. */
    static int port(ApplicationContext context) {
        WebServer server = context instanceof WebServerApplicationContext web ? web.getWebServer() : null;
        return server == null ? -1 : server.getPort();
    }
}
