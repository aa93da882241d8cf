package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Finds loopback ports that are free at the time of the call.
 *
 * <p>Each port is found by binding a socket to {@code 127.0.0.1} port 0 and closing it again.
 * All sockets of one call stay open until every port is chosen, so the ports of one call are
 * distinct. Another program may still take a port before its future owner binds it; that race is
 * accepted for test servers.
 */
final class FreePorts {

    /** The only address the test kit ever binds to or connects to: {@code 127.0.0.1}. */
    static final InetAddress LOOPBACK = ipv4Loopback();

    private static final int MAX_ATTEMPTS = 50;

    private FreePorts() {
    }

    /**
     * Picks {@code count} distinct free TCP ports on the loopback address.
     *
     * @param count how many ports to pick
     * @param excluded ports that must not be picked (for example ports fixed by the caller)
     * @param alsoFreeForUdp how many of the returned ports (the first ones) must also be free for
     *     UDP, for servers such as DNS that listen on both
     * @return the ports, in no particular order apart from the UDP ones coming first
     */
    static List<Integer> pick(int count, Set<Integer> excluded, int alsoFreeForUdp) {
        List<AutoCloseable> held = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        try {
            for (int attempt = 0; ports.size() < count; attempt++) {
                if (attempt >= MAX_ATTEMPTS + count) {
                    throw new IllegalStateException("Could not find " + count + " free loopback ports");
                }
                ServerSocket tcp = new ServerSocket(0, 1, LOOPBACK);
                held.add(tcp);
                int port = tcp.getLocalPort();
                if (excluded.contains(port)) {
                    continue;
                }
                if (ports.size() < alsoFreeForUdp) {
                    DatagramSocket udp = bindUdp(port);
                    if (udp == null) {
                        continue;
                    }
                    held.add(udp);
                }
                ports.add(port);
            }
            return List.copyOf(ports);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not bind a loopback port", e);
        } finally {
            for (AutoCloseable socket : held) {
                closeQuietly(socket);
            }
        }
    }

    /**
     * Tells whether something accepts TCP connections on a loopback port.
     *
     * @param port the port to probe
     * @return true when a connection could be opened
     */
    static boolean isListening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static InetAddress ipv4Loopback() {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static DatagramSocket bindUdp(int port) {
        try {
            return new DatagramSocket(new InetSocketAddress(LOOPBACK, port));
        } catch (SocketException e) {
            return null;
        }
    }

    private static void closeQuietly(AutoCloseable socket) {
        try {
            socket.close();
        } catch (Exception e) {
            // Nothing to do: the socket was only used to reserve a port number.
        }
    }
}
