package dev.autocert.dns;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What the engine logs while it is open: the test's SLF4J binding, slf4j-simple, writes each line
 * to the {@link System#err} of the moment, which this replaces with a copy that also keeps the
 * text. Every thread's lines are caught (an order runs on the engine's own). Restores standard
 * error when closed; one at a time.
 */
final class LogCapture implements AutoCloseable {

    private final PrintStream original = System.err;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

    LogCapture() {
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                original.write(b);
                kept.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                original.write(b, off, len);
                kept.write(b, off, len);
            }

            @Override
            public void flush() {
                original.flush();
            }
        }, true, StandardCharsets.UTF_8));
    }

    /** {@return everything logged so far} */
    String text() {
        System.err.flush();
        return kept.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        System.err.flush();
        System.setErr(original);
    }
}
