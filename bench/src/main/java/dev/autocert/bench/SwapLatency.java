package dev.autocert.bench;

import com.sun.net.httpserver.HttpServer;
import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.FileStorage;
import dev.autocert.core.Storage;
import dev.autocert.jetty.AutocertJetty;
import dev.autocert.testkit.PebbleServer;
import dev.autocert.testkit.StoredCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * One swap end to end through a real Jetty HTTPS connector: a renewal from a local Pebble (real
 * HTTP-01 validation) of one certificate among {@code count}, timed from the moment its new
 * version is stored (the engine's event: from there it builds the new set and publishes it) to
 * the end of the first handshake that serves the new certificate, while a client keeps opening
 * new connections to that name back to back. Prints the median and the worst of N rounds.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.autocert.bench.SwapLatency 1 20
 * java -cp bench/target/benchmarks.jar dev.autocert.bench.SwapLatency 10000 20
 * </pre>
 */
public final class SwapLatency {

    private SwapLatency() {
    }

    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        try (PebbleServer pebble = PebbleServer.builder().build()) {
            pebble.start();
            Path directory = Files.createTempDirectory("autocert-swap-");
            List<String> names = StoredCertificates.create().storeMany(directory, count, "example.test", pebble.directoryUrl());
            String renewed = names.get(count / 2);
            TimedStorage storage = new TimedStorage(new FileStorage(directory));
            AutocertSettings settings = AutocertSettings.builder().properties(pebble.autocertProperties())
                    .domains(String.join(";", names)).storage(directory).build();
            HttpServer responder = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), pebble.httpPort()), 16);
            try (CertificateManager manager = CertificateManager.builder(settings).storage(storage).build()) {
                responder.createContext("/", exchange -> {
                    Optional<String> body = manager.http01Tokens().respond(exchange.getRequestURI().getRawPath());
                    byte[] bytes = body.orElse("").getBytes(StandardCharsets.US_ASCII);
                    exchange.sendResponseHeaders(body.isPresent() ? 200 : 404, bytes.length == 0 ? -1 : bytes.length);
                    exchange.getResponseBody().write(bytes);
                    exchange.close();
                });
                responder.start();
                Server jetty = new Server();
                SslContextFactory.Server factory = new SslContextFactory.Server();
                AutocertJetty.installKeyManager(factory, manager);
                ServerConnector connector = new ServerConnector(jetty, new SslConnectionFactory(factory, "http/1.1"),
                        new HttpConnectionFactory());
                connector.setHost("127.0.0.1");
                jetty.addConnector(connector);
                manager.load();
                jetty.start();
                manager.start();

                SSLContext client = SSLContext.getInstance("TLS");
                client.init(null, new javax.net.ssl.TrustManager[] {new IssuerOnlyTrust(null)}, null);
                client.getClientSessionContext().setSessionCacheSize(1);
                Prober prober = new Prober(client, connector.getLocalPort(), renewed);
                Thread probing = new Thread(prober, "swap-client");
                probing.start();

                manager.renew(renewed).get(60, TimeUnit.SECONDS); // warm-up: account, first order, JIT
                List<Long> micros = new ArrayList<>();
                for (int i = 0; i < rounds; i++) {
                    CertifiedKey issued = manager.renew(renewed).get(60, TimeUnit.SECONDS);
                    long stored = storage.lastSet;
                    long served = prober.firstServing(issued.serial(), Duration.ofSeconds(10));
                    micros.add(TimeUnit.NANOSECONDS.toMicros(served - stored));
                }
                prober.stop = true;
                probing.join();
                jetty.stop();
                Collections.sort(micros);
                System.out.printf("swap with %d certificates, stored to first handshake serving it, %d rounds: median %.1f ms,"
                        + " min %.1f ms, max %.1f ms (%d handshakes failed)%n", count, rounds, micros.get(rounds / 2) / 1000.0,
                        micros.get(0) / 1000.0, micros.get(rounds - 1) / 1000.0, prober.failures);
            } finally {
                responder.stop(0);
            }
        }
    }

    /** Opens new connections to one name back to back and remembers when each serial was first served. */
    private static final class Prober implements Runnable {

        private final SSLContext client;
        private final int port;
        private final String name;
        private final Map<String, Long> firstServed = new java.util.concurrent.ConcurrentHashMap<>();
        volatile boolean stop;
        volatile long failures;

        Prober(SSLContext client, int port, String name) {
            this.client = client;
            this.port = port;
            this.name = name;
        }

        @Override
        public void run() {
            while (!stop) {
                try (Socket plain = new Socket()) {
                    plain.setTcpNoDelay(true);
                    plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
                    SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(plain, name, port, true);
                    SSLParameters parameters = socket.getSSLParameters();
                    parameters.setServerNames(List.of(new SNIHostName(name)));
                    socket.setSSLParameters(parameters);
                    socket.startHandshake();
                    long done = System.nanoTime();
                    X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                    firstServed.putIfAbsent(leaf.getSerialNumber().toString(16), done);
                    socket.getSession().invalidate();
                } catch (Exception e) {
                    failures++;
                }
            }
        }

        long firstServing(String serial, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                Long at = firstServed.get(serial);
                if (at != null) {
                    return at;
                }
                Thread.sleep(1);
            }
            throw new IllegalStateException("serial " + serial + " never served; seen " + firstServed.keySet());
        }
    }

    /** File storage that notes when the last certificate set was stored. */
    private static final class TimedStorage implements Storage {

        private final Storage delegate;
        volatile long lastSet;

        TimedStorage(Storage delegate) {
            this.delegate = delegate;
        }

        @Override
        public Optional<byte[]> load(String key) throws IOException {
            return delegate.load(key);
        }

        @Override
        public void store(String key, byte[] value) throws IOException {
            delegate.store(key, value);
        }

        @Override
        public void storeSet(String prefix, Map<String, byte[]> values) throws IOException {
            delegate.storeSet(prefix, values);
            lastSet = System.nanoTime();
        }

        @Override
        public void open() throws IOException {
            delegate.open();
        }

        @Override
        public boolean delete(String key) throws IOException {
            return delegate.delete(key);
        }

        @Override
        public List<String> list(String prefix) throws IOException {
            return delegate.list(prefix);
        }

        @Override
        public Optional<Lock> tryLock(String name, Duration lease) throws IOException {
            return delegate.tryLock(name, lease);
        }
    }
}
