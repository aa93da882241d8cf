package dev.autocert.core;

import dev.autocert.testkit.StoredCertificates;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Full TLS handshakes in memory (a client and a server {@link SSLEngine}, no sockets), with the
 * engine's SNI key manager serving {@code certificates} stored certificates, or with the JDK's
 * stock key manager over a static one-entry key store: what the key manager adds to a
 * handshake, and whether it depends on how many certificates are served. Each handshake asks
 * for a random stored name by SNI; every handshake is a full one (no session resumption).
 *
 * <p>The client checks the served chain's names but not its signatures: what is measured is the
 * server's side. A verifying client pays an ECDSA verification per handshake only when the
 * certificate differs from the last one it parsed (the JDK caches parsed certificates), which
 * would favour the one-certificate case by the client's cost, not the server's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HandshakeBenchmark {

    /** {@code autocert}: the engine's key manager; {@code stock}: SunX509 over a key store (one certificate only). */
    @Param({"autocert", "stock"})
    public String keyManager;

    @Param({"1", "10000"})
    public int certificates;

    @Param({"TLSv1.3", "TLSv1.2"})
    public String protocol;

    private Path storage;
    private CertificateManager manager;
    private List<String> names;
    private SSLContext server;
    private SSLContext client;
    private final java.util.concurrent.atomic.AtomicInteger ports = new java.util.concurrent.atomic.AtomicInteger();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        if (keyManager.equals("stock") && certificates != 1) {
            throw new IllegalArgumentException("the stock key manager is measured with one certificate only");
        }
        storage = Files.createTempDirectory("autocert-bench-");
        StoredCertificates stored = StoredCertificates.create();
        java.net.URI ca = java.net.URI.create("https://ca.example.test/dir");
        names = stored.storeMany(storage, certificates, "example.test", ca);
        manager = CertificateManager.builder(AutocertSettings.builder().domains(String.join(";", names)).ca(ca.toString())
                .agreeTos(true).storage(storage).build()).build();
        manager.load();
        KeyManager[] managers;
        if (keyManager.equals("autocert")) {
            managers = new KeyManager[] {manager.keyManager()};
        } else {
            char[] password = "benchmark".toCharArray();
            KeyManagerFactory factory = KeyManagerFactory.getInstance("SunX509");
            factory.init(KeyStores.build(manager.certificates(), password), password);
            managers = factory.getKeyManagers();
        }
        server = SSLContext.getInstance("TLS");
        server.init(managers, null, null);
        X509Certificate authority = stored.authority();
        client = SSLContext.getInstance("TLS");
        client.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                if (!chain[chain.length - 1].getIssuerX500Principal().equals(authority.getSubjectX500Principal())) {
                    throw new CertificateException("not from the benchmark's authority");
                }
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[] {authority};
            }
        }}, null);
        // Every handshake full, never resumed: the client keeps no sessions to offer.
        client.getClientSessionContext().setSessionCacheSize(1);
        client.getClientSessionContext().setSessionTimeout(1);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        manager.close();
        try (var files = Files.walk(storage)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** One full handshake for a random name. */
    @Benchmark
    public Object handshake() throws SSLException {
        String name = names.get(ThreadLocalRandom.current().nextInt(names.size()));
        // A new peer port each time: a session is cached per host and port, so none is resumed.
        SSLEngine clientEngine = client.createSSLEngine(name, 1 + (ports.getAndIncrement() & 0xFFFF));
        clientEngine.setUseClientMode(true);
        SSLParameters parameters = clientEngine.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(name)));
        parameters.setProtocols(new String[] {protocol});
        clientEngine.setSSLParameters(parameters);
        SSLEngine serverEngine = server.createSSLEngine();
        serverEngine.setUseClientMode(false);
        return handshake(clientEngine, serverEngine);
    }

    /** Runs the handshake between two engines over in-memory buffers; returns the certificate the client was served. */
    static Object handshake(SSLEngine clientEngine, SSLEngine serverEngine) throws SSLException {
        int packet = Math.max(clientEngine.getSession().getPacketBufferSize(), serverEngine.getSession().getPacketBufferSize());
        int application = Math.max(clientEngine.getSession().getApplicationBufferSize(), serverEngine.getSession().getApplicationBufferSize());
        ByteBuffer toServer = ByteBuffer.allocate(packet * 4);
        ByteBuffer toClient = ByteBuffer.allocate(packet * 4);
        ByteBuffer empty = ByteBuffer.allocate(0);
        ByteBuffer sink = ByteBuffer.allocate(application * 4);
        clientEngine.beginHandshake();
        serverEngine.beginHandshake();
        for (int step = 0; step < 1000; step++) {
            if (done(clientEngine) && done(serverEngine)) {
                return clientEngine.getSession().getPeerCertificates()[0];
            }
            clientEngine.wrap(empty, toServer);
            runTasks(clientEngine);
            toServer.flip();
            serverEngine.unwrap(toServer, sink);
            runTasks(serverEngine);
            toServer.compact();
            sink.clear();
            serverEngine.wrap(empty, toClient);
            runTasks(serverEngine);
            toClient.flip();
            clientEngine.unwrap(toClient, sink);
            runTasks(clientEngine);
            toClient.compact();
            sink.clear();
        }
        throw new IllegalStateException("The handshake did not finish");
    }

    private static boolean done(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }
}
