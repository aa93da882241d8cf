package dev.autocert.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A round-robin balancer on 127.0.0.1 in front of a cluster: each new connection goes to the next
 * live backend in turn, its bytes copied both ways (an L4 balancer). In {@link #perRequest()}
 * mode, for plain HTTP, each connection carries one request, sent with {@code Connection: close},
 * so that a client reusing its connection (Pebble's validation requests may) still reaches the
 * backends in turn, as behind an HTTP balancer. Counts the connections each backend got.
 */
final class RoundRobinProxy implements AutoCloseable {

    private final ServerSocket server;
    private final List<Integer> backends = new CopyOnWriteArrayList<>();
    private final Map<Integer, AtomicInteger> connections = new ConcurrentHashMap<>();
    private final AtomicInteger turn = new AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "balancer");
        thread.setDaemon(true);
        return thread;
    });
    private volatile long delayMillis;
    private volatile boolean perRequest;
    private final AtomicInteger accepted = new AtomicInteger();

    RoundRobinProxy(int port) throws IOException {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
        threads.execute(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    /** Sets the backends, replacing the previous ones. */
    void backends(List<Integer> ports) {
        backends.clear();
        backends.addAll(ports);
    }

    /** Balances each HTTP request, rather than each connection (for plain HTTP without request bodies). */
    RoundRobinProxy perRequest() {
        this.perRequest = true;
        return this;
    }

    /** Holds each new connection this long before passing it on, as a slow network does. */
    void delay(long millis) {
        this.delayMillis = millis;
    }

    /** How many connections clients have opened, passed on or not yet. */
    int accepted() {
        return accepted.get();
    }

    /** How many connections {@code backend} has been given. */
    int connections(int backend) {
        AtomicInteger count = connections.get(backend);
        return count == null ? 0 : count.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                accepted.incrementAndGet();
                threads.execute(() -> relay(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void relay(Socket client) {
        try (client) {
            if (delayMillis > 0) {
                Thread.sleep(delayMillis);
            }
            // The next backend that accepts: a dead node is skipped, as a balancer's health check would.
            // Each backend is tried once from this connection's turn on, whatever other connections take
            // meanwhile (drawing a fresh turn per try could meet the dead node again and give up).
            Socket backend = null;
            List<Integer> ports = List.copyOf(backends);
            int first = turn.getAndIncrement();
            for (int tries = 0; tries < ports.size() && backend == null; tries++) {
                int port = ports.get(Math.floorMod(first + tries, ports.size()));
                try {
                    backend = new Socket();
                    backend.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 2000);
                    connections.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
                } catch (IOException e) {
                    backend.close();
                    backend = null;
                }
            }
            if (backend == null) {
                return;
            }
            try (Socket upstream = backend) {
                if (perRequest) {
                    byte[] head = readHead(client.getInputStream());
                    if (head == null) {
                        return;
                    }
                    upstream.getOutputStream().write(closing(head));
                    upstream.getOutputStream().flush();
                    copy(upstream, client); // the response, until the backend closes; then this connection ends
                    return;
                }
                Thread back = new Thread(() -> copy(upstream, client), "balancer-back");
                back.setDaemon(true);
                back.start();
                copy(client, upstream);
                back.join(30_000);
            }
        } catch (IOException | InterruptedException e) {
            // the connection ends
        }
    }

    /** The request head, through its blank line; null when the client sent nothing. */
    private static byte[] readHead(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        int matched = 0;
        for (int b; (b = in.read()) >= 0; ) {
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toByteArray();
            }
            if (head.size() > 64 * 1024) {
                return null;
            }
        }
        return null;
    }

    /** {@code head} with its Connection headers replaced by {@code Connection: close}. */
    private static byte[] closing(byte[] head) {
        String text = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1);
        StringBuilder out = new StringBuilder();
        String[] lines = text.split("\r\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (i > 0 && line.toLowerCase(java.util.Locale.ROOT).startsWith("connection:")) {
                continue;
            }
            if (line.isEmpty() && i > 0) {
                out.append("Connection: close\r\n\r\n");
                break;
            }
            out.append(line).append("\r\n");
        }
        return out.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private static void copy(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buffer = new byte[16 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            try {
                to.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
