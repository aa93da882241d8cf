package dev.autocert.tomcat;

import dev.autocert.core.AutocertSettings;
import dev.autocert.testkit.PebbleServer;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;

/**
 * An embedded Tomcat for tests, on loopback only: an HTTPS connector without a certificate on a
 * free port (unless plain), a plain HTTP connector on a given port redirecting to it (unless
 * HTTPS only), and a web
 * application at {@code /} whose servlet answers {@code hello HOST PATH}.
 */
final class TestTomcat implements AutoCloseable {

    final Tomcat tomcat;
    final Connector https;
    final Connector http;
    final int httpsPort;
    final Context root;

    private TestTomcat(Path baseDir, int httpPort, boolean withHttps, boolean withHttp) {
        httpsPort = freePort();
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        if (withHttps) {
            https = new Connector();
            https.setPort(httpsPort);
            https.setProperty("address", "127.0.0.1");
            https.setProperty("SSLEnabled", "true");
            tomcat.getService().addConnector(https);
        } else {
            https = null;
        }
        if (withHttp) {
            http = new Connector();
            http.setPort(httpPort);
            http.setProperty("address", "127.0.0.1");
            http.setRedirectPort(httpsPort);
            tomcat.getService().addConnector(http);
        } else {
            http = null;
        }
        root = tomcat.addContext("", null);
        // Leak detection at stop needs --add-opens and only warns in tests.
        ((StandardContext) root).setClearReferencesThreadLocals(false);
        ((StandardContext) root).setClearReferencesRmiTargets(false);
        Tomcat.addServlet(root, "hello", new Hello());
        root.addServletMappingDecoded("/", "hello");
    }

    /** A Tomcat with HTTPS and HTTP on {@code httpPort}. */
    static TestTomcat create(Path baseDir, int httpPort) {
        return new TestTomcat(baseDir, httpPort, true, true);
    }

    /**
     * A Tomcat with only HTTPS, so that {@link AutocertTomcat#install} adds the plain connector
     * (on the HTTPS connector's address, 127.0.0.1) and its redirect to HTTPS.
     */
    static TestTomcat httpsOnly(Path baseDir) {
        return new TestTomcat(baseDir, 0, true, false);
    }

    /** A Tomcat with only HTTP, on {@code httpPort}. */
    static TestTomcat plain(Path baseDir, int httpPort) {
        return new TestTomcat(baseDir, httpPort, false, true);
    }

    /** Settings pointing at {@code pebble}, with HTTP-01 on its validation port. */
    static AutocertSettings.Builder settings(PebbleServer pebble, Path storage, String domains) {
        return AutocertSettings.builder()
                .properties(pebble.autocertProperties())
                .domains(domains)
                .email("admin@example.test")
                .storage(storage);
    }

    TestTomcat start() throws LifecycleException {
        tomcat.start();
        return this;
    }

    @Override
    public void close() throws LifecycleException {
        LifecycleState state = tomcat.getServer().getState();
        if (state == LifecycleState.FAILED) {
            try {
                tomcat.destroy();
            } catch (LifecycleException e) {
                // a server that failed to initialise cannot stop its parts cleanly; it holds no ports
            }
        } else if (state != LifecycleState.DESTROYED) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Answers every request with {@code hello HOST PATH}. */
    static final class Hello extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            byte[] body = ("hello " + request.getServerName() + " " + request.getRequestURI())
                    .getBytes(StandardCharsets.UTF_8);
            response.setContentType("text/plain;charset=UTF-8");
            response.setContentLength(body.length);
            response.getOutputStream().write(body);
        }
    }
}
