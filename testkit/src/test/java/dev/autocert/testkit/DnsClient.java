package dev.autocert.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Sends one DNS query over UDP and returns the answers' data, enough to check the mock DNS server. */
final class DnsClient {

    static final int TYPE_A = 1;
    static final int TYPE_TXT = 16;

    private DnsClient() {
    }

    /**
     * Queries a server.
     *
     * @param server the DNS server
     * @param name the name to look up
     * @param type {@link #TYPE_A} or {@link #TYPE_TXT}
     * @return dotted addresses for A answers, the joined strings for TXT answers
     */
    static List<String> query(InetSocketAddress server, String name, int type) throws IOException {
        byte[] request = request(name, type);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, 0))) {
            socket.setSoTimeout(2000);
            socket.send(new DatagramPacket(request, request.length, server));
            DatagramPacket response = new DatagramPacket(new byte[4096], 4096);
            socket.receive(response);
            return answers(ByteBuffer.wrap(response.getData(), 0, response.getLength()), type);
        }
    }

    private static byte[] request(String name, int type) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0});
        for (String label : name.split("\\.")) {
            if (!label.isEmpty()) {
                byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                out.write(bytes.length);
                out.writeBytes(bytes);
            }
        }
        out.write(0);
        out.writeBytes(new byte[] {0, (byte) type, 0, 1});
        return out.toByteArray();
    }

    private static List<String> answers(ByteBuffer response, int type) {
        response.position(4);
        int questions = Short.toUnsignedInt(response.getShort());
        int answers = Short.toUnsignedInt(response.getShort());
        response.position(12);
        for (int i = 0; i < questions; i++) {
            skipName(response);
            response.position(response.position() + 4);
        }
        List<String> result = new ArrayList<>();
        for (int i = 0; i < answers; i++) {
            skipName(response);
            int answerType = Short.toUnsignedInt(response.getShort());
            response.position(response.position() + 6);
            int length = Short.toUnsignedInt(response.getShort());
            byte[] data = new byte[length];
            response.get(data);
            if (answerType == type) {
                result.add(type == TYPE_A ? address(data) : text(data));
            }
        }
        return result;
    }

    private static void skipName(ByteBuffer buffer) {
        while (true) {
            int length = Byte.toUnsignedInt(buffer.get());
            if (length == 0) {
                return;
            }
            if ((length & 0xC0) == 0xC0) {
                buffer.get();
                return;
            }
            buffer.position(buffer.position() + length);
        }
    }

    private static String address(byte[] data) {
        return Byte.toUnsignedInt(data[0]) + "." + Byte.toUnsignedInt(data[1]) + "."
                + Byte.toUnsignedInt(data[2]) + "." + Byte.toUnsignedInt(data[3]);
    }

    private static String text(byte[] data) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < data.length; i += 1 + Byte.toUnsignedInt(data[i])) {
            text.append(new String(data, i + 1, Byte.toUnsignedInt(data[i]), StandardCharsets.UTF_8));
        }
        return text.toString();
    }
}
