package dev.autocert.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * An ordinary HTTP/2 client for the tests, as a browser connects: TLS with SNI and ALPN {@code h2,
 * http/1.1}, the certificate verified against the given roots and the host name, then one
 * {@code GET} over HTTP/2 (RFC 9113) if the server chose {@code h2}. Just enough HTTP/2 for that:
 * the connection preface, SETTINGS and their acknowledgement, one request without Huffman coding,
 * and the response's HEADERS and DATA frames (a {@code :status} from HPACK's static table).
 * Every socket has a 10-second timeout.
 */
public final class Http2Probe {

    private static final int TIMEOUT_MILLIS = 10_000;
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int RST_STREAM = 0x3;
    private static final int SETTINGS = 0x4;
    private static final int GOAWAY = 0x7;
    private static final int END_STREAM = 0x1;
    private static final int ACK = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final int PADDED = 0x8;
    private static final int PRIORITY = 0x20;
    /** HPACK static table (RFC 7541 appendix A): index 8 to 14 are the {@code :status} values. */
    private static final int[] STATIC_STATUS = {200, 204, 206, 304, 400, 404, 500};

    private Http2Probe() {
    }

    /**
     * What the server answered.
     *
     * @param protocol the ALPN protocol negotiated, "" for none
     * @param served   the certificate the server presented
     * @param status   the response's status over HTTP/2; 0 when the protocol is not {@code h2}
     * @param body     the response's body over HTTP/2, "" when the protocol is not {@code h2}
     */
    public record Response(String protocol, X509Certificate served, int status, String body) {
    }

    /**
     * Connects to 127.0.0.1:{@code port} with SNI {@code host} offering {@code h2} and
     * {@code http/1.1}, and sends {@code GET path} over HTTP/2 when {@code h2} is negotiated.
     */
    public static Response get(SSLContext trust, int port, String host, String path) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
            plain.setSoTimeout(TIMEOUT_MILLIS);
            try (SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket(plain, host, port, true)) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                parameters.setServerNames(List.of(new SNIHostName(host)));
                parameters.setApplicationProtocols(new String[] {"h2", "http/1.1"});
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                String protocol = socket.getApplicationProtocol();
                X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                if (!"h2".equals(protocol)) {
                    return new Response(protocol, served, 0, "");
                }
                return exchange(socket, host, path, protocol, served);
            }
        }
    }

    private static Response exchange(SSLSocket socket, String host, String path, String protocol, X509Certificate served)
            throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(PREFACE);
        writeFrame(out, SETTINGS, 0, 0, new byte[0]);
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        block.write(0x82); // :method GET
        block.write(0x87); // :scheme https
        literal(block, 4, path); // :path, indexed name
        literal(block, 1, host); // :authority, indexed name
        writeFrame(out, HEADERS, END_HEADERS | END_STREAM, 1, block.toByteArray());
        out.flush();

        DataInputStream in = new DataInputStream(socket.getInputStream());
        int status = -1;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            int length = (in.readUnsignedByte() << 16) | in.readUnsignedShort();
            int type = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            int stream = in.readInt() & 0x7fffffff;
            byte[] payload = in.readNBytes(length);
            if (payload.length < length) {
                throw new IOException("The server closed the HTTP/2 connection inside a frame");
            }
            if (type == SETTINGS && (flags & ACK) == 0) {
                writeFrame(out, SETTINGS, ACK, 0, new byte[0]);
                out.flush();
            } else if (type == GOAWAY) {
                throw new IOException("The server sent GOAWAY, error code " + readInt(payload, 4));
            } else if (type == RST_STREAM && stream == 1) {
                throw new IOException("The server reset the request, error code " + readInt(payload, 0));
            } else if (type == HEADERS && stream == 1) {
                int start = (flags & PADDED) != 0 ? 1 : 0;
                start += (flags & PRIORITY) != 0 ? 5 : 0;
                if (status < 0) {
                    status = status(payload, start);
                }
            } else if (type == DATA && stream == 1) {
                int padding = (flags & PADDED) != 0 ? payload[0] & 0xff : 0;
                int start = (flags & PADDED) != 0 ? 1 : 0;
                body.write(payload, start, payload.length - start - padding);
            }
            if ((type == HEADERS || type == DATA) && stream == 1 && (flags & END_STREAM) != 0) {
                return new Response(protocol, served, status, body.toString(StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * The {@code :status} a response header block starts with (after any dynamic table size
     * updates): an indexed field of the static table, or a literal one whose value is not Huffman
     * coded; 0 for anything else.
     */
    private static int status(byte[] block, int start) {
        int at = start;
        while (at < block.length && (block[at] & 0xe0) == 0x20) { // a dynamic table size update
            if ((block[at++] & 0x1f) == 0x1f) {
                while (at < block.length && (block[at++] & 0x80) != 0) {
                    // the rest of a multi-byte integer
                }
            }
        }
        if (at >= block.length) {
            return 0;
        }
        int first = block[at] & 0xff;
        if ((first & 0x80) != 0) {
            int index = first & 0x7f;
            return index >= 8 && index <= 14 ? STATIC_STATUS[index - 8] : 0;
        }
        boolean literalStatus = first == 0x48 || first == 0x08 || first == 0x18; // name :status, from the static table
        if (literalStatus && at + 1 < block.length && (block[at + 1] & 0x80) == 0) {
            int length = block[at + 1];
            return Integer.parseInt(new String(block, at + 2, length, StandardCharsets.US_ASCII));
        }
        return 0;
    }

    /** A literal header field without indexing, its name from the static table, its value not Huffman coded. */
    private static void literal(ByteArrayOutputStream block, int nameIndex, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= 127) {
            throw new IllegalArgumentException("too long for this probe: " + value);
        }
        block.write(nameIndex); // 0000 + 4-bit name index
        block.write(bytes.length);
        block.write(bytes, 0, bytes.length);
    }

    private static void writeFrame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(type);
        out.write(flags);
        out.write(stream >>> 24);
        out.write(stream >>> 16);
        out.write(stream >>> 8);
        out.write(stream);
        out.write(payload);
    }

    private static int readInt(byte[] bytes, int offset) {
        return bytes.length < offset + 4 ? -1 : ((bytes[offset] & 0xff) << 24) | ((bytes[offset + 1] & 0xff) << 16)
                | ((bytes[offset + 2] & 0xff) << 8) | (bytes[offset + 3] & 0xff);
    }
}
