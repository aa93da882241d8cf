package dev.autocert.spring;

import org.springframework.boot.web.server.WebServer;

/**
 * {@link TlsAlpn01IntegrationTestBase} on embedded Jetty, HTTP/2 being Jetty's
 * {@code ALPNServerConnectionFactory} in front of {@code h2} and {@code http/1.1}, which chooses
 * the protocol of every handshake but the CA's.
 */
class AutocertJettyTlsAlpn01Test extends TlsAlpn01IntegrationTestBase {

    @Override
    Class<? extends WebServer> serverType() {
        return BootTest.jettyWebServer();
    }
}
