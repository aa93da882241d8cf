package dev.autocert.samples.tomcat;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.tomcat.AutocertTomcat;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * An embedded Tomcat that obtains and renews its own certificate. Settings are the {@code
 * autocert.*} system properties; {@code https.port} (default 443) is the HTTPS port and {@code
 * sample.base} (default {@code tomcat-base}) Tomcat's base directory, where the certificates are
 * kept under {@code autocert/}.
 *
 * <pre>
 * java -Dautocert.domains=example.com,www.example.com -Dautocert.email=admin@example.com \
 *      -Dautocert.agree-tos=true -jar target/autocert-sample-tomcat-0.1.0-SNAPSHOT.jar
 * </pre>
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        AutocertSettings settings;
        try {
            settings = AutocertSettings.fromProperties(System.getProperties());
        } catch (InvalidSettingException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }

        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(System.getProperty("sample.base", "tomcat-base"));

        // An HTTPS connector without a certificate: Autocert supplies it.
        Connector https = new Connector();
        https.setPort(Integer.getInteger("https.port", 443));
        https.setProperty("SSLEnabled", "true");
        tomcat.getService().addConnector(https);

        // The challenge valve, the listener, and a plain HTTP connector on autocert.http-port.
        CertificateManager manager = AutocertTomcat.install(tomcat, settings);

        Context root = tomcat.addContext("", null);
        Tomcat.addServlet(root, "hello", new Hello(manager));
        root.addServletMappingDecoded("/", "hello");

        tomcat.start();
        tomcat.getServer().await();
    }

    /** Says which certificate serves the host asked for. */
    static final class Hello extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final transient CertificateManager manager;

        Hello(CertificateManager manager) {
            this.manager = manager;
        }

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            String host = request.getServerName();
            String certificate = manager.certificates().stream()
                    .filter(key -> key.names().contains(host))
                    .findFirst()
                    .map(Hello::describe)
                    .orElse("none for this name");
            byte[] body = ("Hello from embedded Tomcat over " + request.getScheme() + " for " + host + "\n"
                    + "Certificate: " + certificate + "\n").getBytes(StandardCharsets.UTF_8);
            response.setContentType("text/plain;charset=UTF-8");
            response.setContentLength(body.length);
            response.getOutputStream().write(body);
        }

        private static String describe(CertifiedKey key) {
            return (key.placeholder() ? "self-signed placeholder" : "issued by " + key.issuer())
                    + ", serial " + key.serial() + ", valid until " + key.notAfter();
        }
    }
}
