package dev.autocert.cli;

import dev.autocert.core.AccountManager;
import dev.autocert.core.AccountManager.AccountInfo;
import dev.autocert.core.AutocertException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code autocert show_account}: the ACME account as the CA has it now, as Certbot's
 * {@code show_account}: its URL, key thumbprint, contacts, and also its status and key type
 * (never the key); {@code --json} for scripts.
 */
@Command(name = "show_account", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Shows the ACME account at the CA of --ca (the first of autocert.ca) as the CA has it now: its URL, "
                + "contacts, status, and its key's type and thumbprint (never the key).")
final class ShowAccountCommand extends AccountCommand {

    @Option(names = "--json", order = 0, description = "Print one JSON object: ca, url, status, contacts, emails, keyType, keyThumbprint.")
    boolean json;

    @Override
    public Integer call() throws AutocertException {
        AccountManager accounts = accounts();
        existing(accounts);
        Console console = console();
        console.progress("Asking " + accounts.ca() + " for the account…");
        AccountInfo account = accounts.fetch();
        if (json) {
            console.println(AccountCommand.json(account));
        } else {
            console.println("Account details for server " + accounts.ca() + ":");
            AccountCommand.details(account).forEach(console::println);
        }
        return ExitCodes.OK;
    }
}
