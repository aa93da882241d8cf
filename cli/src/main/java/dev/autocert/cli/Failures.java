package dev.autocert.cli;

import dev.autocert.core.AutocertException;
import dev.autocert.core.InvalidSettingException;
import picocli.CommandLine;

/**
 * How failures end the command: an invalid setting or option is a usage error (2) in one line that
 * names it and the fix; a failure of what was asked (1) prints its message, not a stack trace
 * (which {@code -v} adds).
 */
final class Failures implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {

    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        if (e instanceof InvalidSettingException invalid) {
            commandLine.getErr().println("autocert: " + invalid.getMessage());
            return ExitCodes.USAGE;
        }
        if (e instanceof CommandLine.ParameterException parameter) {
            return handleParseException(parameter, parseResult.originalArgs().toArray(String[]::new));
        }
        String message = e instanceof AutocertException || e instanceof CommandFailure ? e.getMessage()
                : e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : "");
        commandLine.getErr().println("autocert: " + message);
        if (Logging.verbose()) {
            e.printStackTrace(commandLine.getErr());
        }
        return e instanceof CommandFailure failure ? failure.exitCode() : ExitCodes.FAILURE;
    }

    @Override
    public int handleParseException(CommandLine.ParameterException e, String[] args) {
        CommandLine commandLine = e.getCommandLine();
        commandLine.getErr().println("autocert: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, commandLine.getErr());
        commandLine.getErr().println("Run '" + commandLine.getCommandSpec().qualifiedName() + " --help' for its options.");
        return ExitCodes.USAGE;
    }

    /** A failure of what was asked, with its exit code and a message for the operator. */
    static final class CommandFailure extends RuntimeException {

        private static final long serialVersionUID = 1L;
        private final int exitCode;

        CommandFailure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        int exitCode() {
            return exitCode;
        }
    }
}
