package dev.autocert.cli;

/** The command's exit codes, as {@code --help} lists them. */
final class ExitCodes {

    static final int OK = 0;
    static final int FAILURE = 1;
    static final int USAGE = 2;
    static final int PARTIAL = 3;

    private ExitCodes() {
    }
}
