package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.autocert.core.Http01Tokens;
import dev.autocert.testkit.HttpsProbe;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Reactor Netty listener on a real socket: asked for or not, answers, slow clients, a taken port. */
class NettyChallengeListenerTest {

    private NettyChallengeListener listener;

    private NettyChallengeListener listener(int port) {
        listener = new NettyChallengeListener(new Http01Tokens(), port);
        return listener;
    }

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.destroy();
        }
    }

    @Test
    void listensOnlyWhenAskedFor() throws Exception {
        listener(ServerIntegrationTestBase.freePort()).start();

        assertThat(listener.isRunning()).isFalse();
    }

    @Test
    void answersOnItsPortUntilStoppedWhileSlowClientsWait() throws Exception {
        int port = ServerIntegrationTestBase.freePort();
        listener(port).listenFor(InetAddress.getLoopbackAddress(), () -> 8443);
        listener.start();
        assertThat(listener.localPort()).isEqualTo(port);

        try (Socket slow1 = stalled(port); Socket slow2 = stalled(port); Socket slow3 = stalled(port);
                Socket slow4 = stalled(port); Socket slow5 = stalled(port)) {
            HttpsProbe.Response redirect = HttpsProbe.plain(port, "GET", "/hello?x=1", "www.example.test");
            assertThat(redirect.status()).as("answered while five clients stall mid-request").isEqualTo(308);
            assertThat(redirect.header("Location")).isEqualTo("https://www.example.test:8443/hello?x=1");
            HttpsProbe.Response unknown = HttpsProbe.plain(port, "HEAD", "/.well-known/acme-challenge/unknownToken", "x.test");
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(unknown.body()).isEmpty();
        }

        listener.stop();
        assertThat(listener.isRunning()).isFalse();
        try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertThat(again.getLocalPort()).as("the port is free again").isEqualTo(port);
        }
    }

    @Test
    void aTakenPortIsNamedWithItsSetting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener(taken.getLocalPort()).listenFor(InetAddress.getLoopbackAddress(), () -> 8443);

            assertThatThrownBy(listener::start).hasMessageContaining("autocert.http-port=" + taken.getLocalPort())
                    .hasMessageContaining("Free the port");
        }
    }

    /** A client that sends half a request line and then nothing. */
    private static Socket stalled(int port) throws Exception {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
        OutputStream out = socket.getOutputStream();
        out.write("GET / HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }
}
