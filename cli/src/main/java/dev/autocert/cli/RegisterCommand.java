package dev.autocert.cli;

import dev.autocert.core.AccountManager;
import dev.autocert.core.AccountManager.AccountInfo;
import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code autocert register}: creates the ACME account at the CA of {@code --ca}, as Certbot's
 * {@code register}: with {@code -m ADDRESS} (or {@code --register-unsafely-without-email}),
 * {@code --agree-tos} when the CA has terms, and {@code --eab-kid}/{@code --eab-hmac-key} when it
 * asks for external account binding. One account per CA and storage: when there is one, it says
 * so and exits 1.
 */
@Command(name = "register", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Creates the ACME account at the CA of --ca (the first of autocert.ca) and stores its key and URL "
                + "where servers on the same --storage use it.",
            "Give -m ADDRESS (or --register-unsafely-without-email), --agree-tos when the CA has terms, and "
                + "--eab-kid/--eab-hmac-key when it asks for external account binding."})
final class RegisterCommand extends AccountCommand {

    @Option(names = "--register-unsafely-without-email", order = 0,
            description = "Register with no contact address. Strongly discouraged: the CA cannot tell you of expiring or "
                    + "revoked certificates or changed terms, and you cannot recover the account by your address.")
    boolean withoutEmail;

    @Override
    public Integer call() throws AutocertException {
        AutocertSettings settings = storageSettings();
        if (settings.email().isEmpty() && !withoutEmail) {
            throw new CommandLine.ParameterException(spec.commandLine(), "register needs a contact address for the CA's "
                    + "notices: give -m/--email ADDRESS (or " + AutocertSettings.PREFIX + "email in --config), or "
                    + "--register-unsafely-without-email to register without one");
        }
        if (settings.email().isPresent() && withoutEmail) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--register-unsafely-without-email contradicts the "
                    + "address " + settings.email().get() + " given with -m/--email or " + AutocertSettings.PREFIX
                    + "email; give one of them");
        }
        AccountManager accounts = AccountManager.create(settings);
        Optional<AccountInfo> existing = accounts.stored();
        if (existing.isPresent()) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "There is an existing account at " + accounts.ca() + " in "
                    + where(accounts) + ": " + existing.get().location() + "; registering a second one is not supported. "
                    + "Change it with 'autocert update_account', or deactivate it with 'autocert unregister' first");
        }
        Console console = console();
        console.progress("Registering an account at " + accounts.ca() + "…");
        AccountInfo account = accounts.register();
        console.println("Account registered at " + accounts.ca() + ":");
        AccountCommand.details(account).forEach(console::println);
        return ExitCodes.OK;
    }
}
