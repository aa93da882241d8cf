package dev.autocert.cli;

import dev.autocert.core.AccountManager;
import dev.autocert.core.AccountManager.AccountInfo;
import dev.autocert.core.AutocertException;
import dev.autocert.core.AutocertSettings;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code autocert update_account}: changes the ACME account at the CA, as Certbot's
 * {@code update_account}: {@code -m ADDRESS} makes that the account's contact; {@code --rollover-key}
 * rolls the account key over (RFC 8555 section 7.3.5), which Certbot cannot. Only what is named on
 * the command line changes.
 */
@Command(name = "update_account", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Changes the ACME account at the CA of --ca (the first of autocert.ca): -m ADDRESS makes that its "
                + "contact address; --rollover-key gives it a new key. Only what is named on the command line changes.",
            "Servers on the same --storage use the new key from their next request to the CA."})
final class UpdateAccountCommand extends AccountCommand {

    @Option(names = "--rollover-key", order = 0,
            description = "Roll the account key over: a new key is made, the CA binds the account to it, and only then is it "
                    + "stored (0600) in place of the old one.")
    boolean rolloverKey;

    @Override
    public Integer call() throws AutocertException {
        boolean emailGiven = spec.commandLine().getParseResult().hasMatchedOption("--email");
        if (!emailGiven && !rolloverKey) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Nothing to change: give -m/--email ADDRESS for a new "
                    + "contact address, --rollover-key for a new account key, or both");
        }
        AutocertSettings settings = storageSettings();
        AccountManager accounts = AccountManager.create(settings);
        existing(accounts);
        Console console = console();
        AccountInfo account = null;
        if (rolloverKey) {
            console.progress("Rolling the account key over at " + accounts.ca() + "…");
            account = accounts.rollOverKey();
            console.println("Account key rolled over: the CA now knows the account by its new key (thumbprint "
                    + account.keyThumbprint() + "), stored in " + where(accounts) + ".");
        }
        if (emailGiven) {
            String email = settings.email().orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                    "-m/--email: expected an address like admin@example.com but was empty; an account's contact can be "
                    + "replaced, not removed"));
            console.progress("Changing the contact address at " + accounts.ca() + "…");
            account = accounts.changeContact(email);
            console.println("Your e-mail address was updated to " + email + ".");
            warnOfOtherAddress(console, email);
        }
        AccountCommand.details(account).forEach(console::println);
        return ExitCodes.OK;
    }

    /** Servers keep their account's contact in step with their autocert.email, so a --config file that names another undoes this change. */
    private void warnOfOtherAddress(Console console, String email) {
        for (Path file : configFiles) {
            String configured = SettingsOptions.read(file).get(AutocertSettings.PREFIX + "email");
            if (configured != null && !configured.isBlank() && !configured.trim().equalsIgnoreCase(email)) {
                console.error("Note: " + file + " still sets " + AutocertSettings.PREFIX + "email=" + configured.trim()
                        + "; a server with that setting changes the contact back at its next order: set it to " + email + " there too");
            }
        }
    }
}
