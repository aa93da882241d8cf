package dev.autocert.cli;

import java.io.PrintWriter;

/**
 * What the command prints: results on standard output (nothing with {@code --quiet}), progress of
 * slow steps on standard error only when it is a terminal, errors always.
 */
final class Console {

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean quiet;
    private final boolean terminal;

    Console(PrintWriter out, PrintWriter err, boolean quiet) {
        this.out = out;
        this.err = err;
        this.quiet = quiet;
        this.terminal = System.console() != null && System.getenv("TERM") != null && !"dumb".equals(System.getenv("TERM"));
    }

    /** A result line. */
    void println(String line) {
        if (!quiet) {
            out.println(line);
            out.flush();
        }
    }

    /** A step under way ("Ordering a certificate for example.com…"), shown only on a terminal. */
    void progress(String step) {
        if (terminal && !quiet) {
            err.println(step);
            err.flush();
        }
    }

    /** An error or warning, always shown. */
    void error(String line) {
        err.println(line);
        err.flush();
    }

    PrintWriter out() {
        return out;
    }
}
