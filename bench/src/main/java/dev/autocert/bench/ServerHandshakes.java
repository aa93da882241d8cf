package dev.autocert.bench;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.KeyStores;
import dev.autocert.jetty.AutocertJetty;
import dev.autocert.testkit.StoredCertificates;
import dev.autocert.tomcat.AutocertTomcat;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Full TLS handshakes per second through a real Jetty or Tomcat HTTPS connector on 127.0.0.1,
 * with Autocert's key manager serving {@code certificates} stored certificates, or with the
 * server's stock key store holding one: a bounded load of new connections (handshake, close, no
 * resumption) from two client threads for a number of seconds.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.autocert.bench.ServerHandshakes jetty autocert 10000 TLSv1.3 10
 * java -cp bench/target/benchmarks.jar dev.autocert.bench.ServerHandshakes tomcat stock 1 TLSv1.2 10
 * </pre>
 */
public final class ServerHandshakes {

    private static final char[] PASSWORD = "benchmark".toCharArray();

    private ServerHandshakes() {
    }

    public static void main(String[] args) throws Exception {
        String server = args[0];
        boolean autocert = args[1].equals("autocert");
        int count = Integer.parseInt(args[2]);
        String protocol = args[3];
        int seconds = Integer.parseInt(args[4]);

        Path storage = Files.createTempDirectory("autocert-bench-");
        URI ca = URI.create("https://ca.example.test/dir");
        StoredCertificates stored = StoredCertificates.create();
        List<String> names = stored.storeMany(storage, count, "example.test", ca);
        CertificateManager manager = CertificateManager.builder(AutocertSettings.builder().domains(String.join(";", names))
                .ca(ca.toString()).agreeTos(true).storage(storage).build()).build();
        manager.load(); // what the server serves; nothing is due, nothing is ordered
        KeyStore keyStore = autocert ? null : KeyStores.build(manager.certificates().subList(0, 1), PASSWORD);

        int port;
        AutoCloseable running;
        if (server.equals("jetty")) {
            Server jetty = new Server();
            SslContextFactory.Server factory = new SslContextFactory.Server();
            if (autocert) {
                AutocertJetty.installKeyManager(factory, manager);
            } else {
                factory.setKeyStore(keyStore);
                factory.setKeyStorePassword(new String(PASSWORD));
            }
            ServerConnector connector = new ServerConnector(jetty, new SslConnectionFactory(factory, "http/1.1"),
                    new HttpConnectionFactory());
            connector.setHost("127.0.0.1");
            jetty.addConnector(connector);
            jetty.start();
            port = connector.getLocalPort();
            running = jetty::stop;
        } else {
            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(Files.createTempDirectory("autocert-bench-tomcat-").toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            connector.setSecure(true);
            connector.setScheme("https");
            connector.setProperty("SSLEnabled", "true");
            SSLHostConfig config = new SSLHostConfig();
            config.setHostName("_default_");
            connector.addSslHostConfig(config);
            if (autocert) {
                AutocertTomcat.installKeyManager(connector, manager);
            } else {
                SSLHostConfigCertificate certificate = new SSLHostConfigCertificate(config, SSLHostConfigCertificate.Type.UNDEFINED);
                certificate.setCertificateKeystore(keyStore);
                certificate.setCertificateKeystorePassword(new String(PASSWORD));
                config.addCertificate(certificate);
            }
            tomcat.getService().addConnector(connector);
            tomcat.start();
            port = connector.getLocalPort();
            running = () -> {
                tomcat.stop();
                tomcat.destroy();
            };
        }

        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(stored.trustStore());
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, trust.getTrustManagers(), null);
        client.getClientSessionContext().setSessionCacheSize(1);
        List<String> served = autocert ? names : names.subList(0, 1);
        AtomicLong handshakes = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread thread = new Thread(() -> {
                while (System.nanoTime() < end) {
                    String name = served.get(ThreadLocalRandom.current().nextInt(served.size()));
                    try (Socket plain = new Socket()) {
                        plain.setTcpNoDelay(true); // else TLS 1.2's last flight waits for a delayed ACK
                        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
                        SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(plain, name, port, true);
                        SSLParameters parameters = socket.getSSLParameters();
                        parameters.setServerNames(List.of(new SNIHostName(name)));
                        parameters.setProtocols(new String[] {protocol});
                        parameters.setEndpointIdentificationAlgorithm("HTTPS");
                        socket.setSSLParameters(parameters);
                        socket.startHandshake();
                        X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                        if (leaf == null) {
                            throw new IllegalStateException("no certificate");
                        }
                        socket.getSession().invalidate(); // never resumed
                        socket.close();
                        handshakes.incrementAndGet();
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        running.close();
        manager.close();
        System.out.printf("%s %s %d certificates %s: %.1f handshakes/s (%d in %d s, %d failed)%n", server,
                autocert ? "autocert" : "stock", count, protocol, handshakes.get() / (double) seconds, handshakes.get(), seconds,
                failures.get());
    }
}
