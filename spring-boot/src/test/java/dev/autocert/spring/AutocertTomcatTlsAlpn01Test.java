package dev.autocert.spring;

import org.springframework.boot.web.server.WebServer;

/** {@link TlsAlpn01IntegrationTestBase} on embedded Tomcat, HTTP/2 being Tomcat's {@code Http2Protocol}. */
class AutocertTomcatTlsAlpn01Test extends TlsAlpn01IntegrationTestBase {

    @Override
    Class<? extends WebServer> serverType() {
        return BootTest.tomcatWebServer();
    }
}
