package dev.autocert.cli;

import dev.autocert.core.AccountManager;
import dev.autocert.core.AccountManager.AccountInfo;
import dev.autocert.core.AutocertException;
import java.lang.reflect.Method;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code autocert unregister}: deactivates the ACME account at the CA, for good, and removes it
 * from storage, as Certbot's {@code unregister}. It asks first on a terminal; {@code -n} skips
 * the question, and without a terminal {@code -n} is required, so that a script never deactivates
 * an account by accident.
 */
@Command(name = "unregister", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Deactivates the ACME account at the CA of --ca (the first of autocert.ca) for good, and removes its "
                + "key and URL from --storage. Certificates it obtained stay valid.",
            "Asks first; -n skips the question, and is required when there is no terminal to ask on."})
final class UnregisterCommand extends AccountCommand {

    @Option(names = {"-n", "--non-interactive"}, order = 0,
            description = "Do not ask for confirmation (required when not run on a terminal).")
    boolean nonInteractive;

    @Override
    public Integer call() throws AutocertException {
        AccountManager accounts = accounts();
        AccountInfo stored = existing(accounts);
        if (!nonInteractive) {
            confirm(stored);
        }
        Console console = console();
        console.progress("Deactivating the account at " + accounts.ca() + "…");
        AccountInfo account = accounts.deactivate();
        console.println("Account deactivated: " + account.location() + " at " + accounts.ca() + " (status "
                + account.status() + "), and removed from " + where(accounts) + ".");
        console.println("Certificates it obtained stay valid until they expire or are revoked; servers on this storage "
                + "register a new account at their next order.");
        return ExitCodes.OK;
    }

    private void confirm(AccountInfo account) {
        java.io.Console terminal = terminal();
        if (terminal == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unregister deactivates the account "
                    + account.location() + " at " + account.ca() + " for good, and asks first; there is no terminal to ask "
                    + "on: confirm with -n (--non-interactive)");
        }
        String answer = terminal.readLine("Are you sure you would like to irrevocably deactivate the account %s at %s? "
                + "(y)es/(n)o: ", account.location(), account.ca());
        if (answer == null || !answer.trim().toLowerCase(java.util.Locale.ROOT).matches("y|yes")) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "Deactivation aborted; the account is unchanged.");
        }
    }

    /** The terminal to ask on, or null: standard input and output are not both a terminal. */
    private static java.io.Console terminal() {
        java.io.Console console = System.console();
        if (console == null) {
            return null;
        }
        try {
            // From Java 22 a console exists even when redirected; isTerminal() tells the difference.
            Method isTerminal = java.io.Console.class.getMethod("isTerminal");
            return Boolean.TRUE.equals(isTerminal.invoke(console)) ? console : null;
        } catch (ReflectiveOperationException e) {
            return console; // Java 17 to 21: a console is a terminal
        }
    }
}
