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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
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
 * Full TLS handshakes per second through real Jetty or Tomcat HTTPS connectors on 127.0.0.1, side
 * by side in one run: the server's stock key store holding one certificate, Autocert's key manager
 * serving one, and Autocert's key manager serving 10,000 (SNI over random names). All three servers
 * run in one JVM; rounds of a bounded load of new connections (handshake, close, no resumption)
 * from two client threads go to each in turn, in a new random order each round, so drift of the
 * machine spreads evenly over them. Prints each round and the median per server and their ratios.
 *
 * <p>The clients check that the served leaf was issued by the test authority and names the host,
 * but do not verify signatures: with 10,000 certificates a verifying client pays a signature check
 * per handshake that the JDK's cache spares it with one, on the same cores as the server.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.autocert.bench.ServerHandshakes jetty TLSv1.3 [rounds] [seconds per round]
 * java -cp bench/target/benchmarks.jar dev.autocert.bench.ServerHandshakes tomcat TLSv1.2 9 5
 * </pre>
 */
public final class ServerHandshakes {

    private static final char[] PASSWORD = "benchmark".toCharArray();
    private static final int MANY = 10_000;

    private ServerHandshakes() {
    }

    public static void main(String[] args) throws Exception {
        String server = args[0];
        String protocol = args[1];
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 9;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 5;

        StoredCertificates stored = StoredCertificates.create();
        URI ca = URI.create("https://127.0.0.1:1/dir"); // never contacted: nothing is due
        CertificateManager one = loaded(stored, 1, ca);
        CertificateManager many = loaded(stored, MANY, ca);
        KeyStore keyStore = KeyStores.build(one.certificates().subList(0, 1), PASSWORD);
        List<String> oneName = List.of(one.certificates().get(0).name());
        List<String> manyNames = many.certificates().stream().map(c -> c.name()).toList();

        Map<String, Target> targets = new LinkedHashMap<>();
        targets.put("stock, 1", new Target(start(server, null, keyStore), oneName));
        targets.put("autocert, 1", new Target(start(server, one, null), oneName));
        targets.put("autocert, 10000", new Target(start(server, many, null), manyNames));
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, new javax.net.ssl.TrustManager[] {new IssuerOnlyTrust(stored.authority())}, null);
        client.getClientSessionContext().setSessionCacheSize(1);

        for (Target target : targets.values()) {
            load(client, target, protocol, 2); // warm-up: JIT, connection paths
        }
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        targets.keySet().forEach(k -> rates.put(k, new ArrayList<>()));
        for (int round = 1; round <= rounds; round++) {
            List<String> order = new ArrayList<>(targets.keySet());
            Collections.shuffle(order);
            StringBuilder line = new StringBuilder("round " + round + ":");
            for (String key : order) {
                double rate = load(client, targets.get(key), protocol, seconds);
                rates.get(key).add(rate);
                line.append(String.format("  %s %.1f/s", key, rate));
            }
            System.out.println(line);
        }
        for (Target target : targets.values()) {
            target.running.close();
        }
        one.close();
        many.close();

        double stock = median(rates.get("stock, 1"));
        double autocert = median(rates.get("autocert, 1"));
        double autocertMany = median(rates.get("autocert, 10000"));
        System.out.printf("%s %s, median of %d rounds of %d s: stock %.1f/s, autocert 1 %.1f/s, autocert 10000 %.1f/s;"
                + " autocert/stock %.3f, 10000/1 %.3f%n", server, protocol, rounds, seconds, stock, autocert, autocertMany,
                autocert / stock, autocertMany / autocert);
    }

    private record Target(Running running, List<String> names) {
    }

    private record Running(int port, AutoCloseable stop) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            stop.close();
        }
    }

    private static CertificateManager loaded(StoredCertificates stored, int count, URI ca) throws Exception {
        Path storage = Files.createTempDirectory("autocert-bench-");
        List<String> names = stored.storeMany(storage, count, "example.test", ca);
        CertificateManager manager = CertificateManager.builder(AutocertSettings.builder().domains(String.join(";", names))
                .ca(ca.toString()).agreeTos(true).storage(storage).build()).build();
        manager.load(); // what the server serves; nothing is due, nothing is ordered
        return manager;
    }

    /** Starts a server with {@code manager}'s key manager, or with {@code keyStore} when manager is null. */
    private static Running start(String server, CertificateManager manager, KeyStore keyStore) throws Exception {
        if (server.equals("jetty")) {
            Server jetty = new Server();
            SslContextFactory.Server factory = new SslContextFactory.Server();
            if (manager != null) {
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
            return new Running(connector.getLocalPort(), jetty::stop);
        }
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
        if (manager != null) {
            AutocertTomcat.installKeyManager(connector, manager);
        } else {
            SSLHostConfigCertificate certificate = new SSLHostConfigCertificate(config, SSLHostConfigCertificate.Type.UNDEFINED);
            certificate.setCertificateKeystore(keyStore);
            certificate.setCertificateKeystorePassword(new String(PASSWORD));
            config.addCertificate(certificate);
        }
        tomcat.getService().addConnector(connector);
        tomcat.start();
        return new Running(connector.getLocalPort(), () -> {
            tomcat.stop();
            tomcat.destroy();
        });
    }

    /** Two client threads open new connections to {@code target} for {@code seconds}; returns handshakes/s. */
    private static double load(SSLContext client, Target target, String protocol, int seconds) throws InterruptedException {
        AtomicLong handshakes = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread thread = new Thread(() -> {
                while (System.nanoTime() < end) {
                    String name = target.names.get(ThreadLocalRandom.current().nextInt(target.names.size()));
                    try (Socket plain = new Socket()) {
                        plain.setTcpNoDelay(true); // else TLS 1.2's last flight waits for a delayed ACK
                        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.running.port), 5000);
                        SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(plain, name, target.running.port, true);
                        SSLParameters parameters = socket.getSSLParameters();
                        parameters.setServerNames(List.of(new SNIHostName(name)));
                        parameters.setProtocols(new String[] {protocol});
                        socket.setSSLParameters(parameters);
                        socket.startHandshake();
                        X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                        if (!leaf.getSubjectX500Principal().getName().equals("CN=" + name)) {
                            throw new IllegalStateException("served " + leaf.getSubjectX500Principal() + " for " + name);
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
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " handshakes failed");
        }
        return handshakes.get() / (double) seconds;
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
