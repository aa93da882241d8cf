package dev.autocert.samples.jetty;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import dev.autocert.jetty.AutocertJetty;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * An embedded Jetty server with automatic HTTPS that serves a hello page.
 *
 * <p>Settings are the {@code autocert.*} system properties ({@code -Dautocert.domains=example.com})
 * or environment variables ({@code AUTOCERT_DOMAINS=example.com}; a system property wins). The
 * sample's own: {@code sample.https-port} (443) and {@code sample.host} (every interface).
 *
 * <pre>
 * java -Dautocert.domains=example.com -Dautocert.email=you@example.com -Dautocert.agree-tos=true \
 *      -cp "$(cat target/classpath.txt):target/classes" dev.autocert.samples.jetty.HelloJetty
 * </pre>
 */
public final class HelloJetty {

    private HelloJetty() {
    }

    public static void main(String[] args) throws Exception {
        AutocertSettings settings;
        try {
            settings = AutocertSettings.fromProperties(settingsFromEnvironmentAndSystem());
        } catch (InvalidSettingException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        String host = System.getProperty("sample.host");
        int httpsPort = Integer.getInteger("sample.https-port", 443);

        Server server = new Server();
        HttpConfiguration https = new HttpConfiguration();
        https.addCustomizer(new SecureRequestCustomizer());
        // Autocert gives this factory its certificates; no key store file is needed.
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ServerConnector connector = new ServerConnector(server,
                new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
        connector.setHost(host);
        connector.setPort(httpsPort);
        server.addConnector(connector);
        server.setHandler(new Hello());

        AutocertJetty.install(server, settings);
        server.start();
        System.out.printf("Serving https://%s:%d/ (certificates for %s)%n", settings.certificates().get(0).name(), httpsPort,
                settings.certificates().stream().map(c -> String.join(",", c.domains())).toList());
        server.join();
    }

    /** autocert.* from the environment (AUTOCERT_HTTP_PORT is autocert.http-port), then system properties. */
    private static Map<String, String> settingsFromEnvironmentAndSystem() {
        Map<String, String> result = new TreeMap<>();
        System.getenv().forEach((name, value) -> {
            if (name.startsWith("AUTOCERT_")) {
                result.put(AutocertSettings.PREFIX + name.substring(9).toLowerCase(Locale.ROOT).replace('_', '-'), value);
            }
        });
        System.getProperties().forEach((name, value) -> {
            if (String.valueOf(name).startsWith(AutocertSettings.PREFIX)) {
                result.put(String.valueOf(name), String.valueOf(value));
            }
        });
        return result;
    }

    /** The page: a greeting that names the host the browser asked for. */
    private static final class Hello extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String body = "Hello from embedded Jetty over HTTPS, " + Request.getServerName(request) + "!\n";
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=UTF-8");
            response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
            return true;
        }
    }
}
