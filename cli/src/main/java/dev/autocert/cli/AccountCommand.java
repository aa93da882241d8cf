package dev.autocert.cli;

import dev.autocert.core.AccountManager;
import dev.autocert.core.AccountManager.AccountInfo;
import dev.autocert.core.AutocertException;
import dev.autocert.core.FileStorage;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A verb on the ACME account in storage ({@code register}, {@code update_account},
 * {@code unregister}, {@code show_account}): the account at the CA of {@code --ca} (the first of
 * {@code autocert.ca}), in the storage of {@code --storage}; no certificate settings needed.
 * What it prints of an account never includes key material: the key's type and public
 * thumbprint only.
 */
abstract class AccountCommand extends SettingsCommand {

    /** The accounts of the settings given, in their storage. */
    AccountManager accounts() {
        return AccountManager.create(storageSettings());
    }

    /** Where the accounts are kept, as an operator names it: a directory for file storage. */
    static String where(AccountManager accounts) {
        return accounts.storage() instanceof FileStorage files ? files.directory().toString() : accounts.storage().toString();
    }

    /** The stored account, or a failure that says how to get one. */
    static AccountInfo existing(AccountManager accounts) throws AutocertException {
        Optional<AccountInfo> stored = accounts.stored();
        if (stored.isEmpty()) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "Could not find an existing account for " + accounts.ca()
                    + " in " + where(accounts) + "; register one with 'autocert register', or name the CA it is at with --ca "
                    + "and its storage with --storage");
        }
        return stored.get();
    }

    /** The account's details, one per line, indented under a heading the caller prints. */
    static List<String> details(AccountInfo account) {
        List<String> emails = account.emails();
        List<String> others = account.contacts().stream().filter(c -> !"mailto".equalsIgnoreCase(c.getScheme()))
                .map(URI::toString).toList();
        List<String> lines = new ArrayList<>();
        lines.add("  Account URL: " + account.location());
        lines.add("  Account Thumbprint: " + account.keyThumbprint());
        lines.add("  Email contact" + (emails.size() > 1 ? "s" : "") + ": " + (emails.isEmpty() ? "none" : String.join(", ", emails)));
        if (!others.isEmpty()) {
            lines.add("  Other contacts: " + String.join(", ", others));
        }
        lines.add("  Status: " + account.status());
        lines.add("  Key type: " + account.keyType());
        return lines;
    }

    /** The account as one JSON object, for {@code --json}. */
    static String json(AccountInfo account) {
        return "{"
                + field("ca", account.ca().toString()) + ","
                + field("url", account.location().toString()) + ","
                + field("status", account.status()) + ","
                + "\"contacts\":" + array(account.contacts().stream().map(URI::toString).toList()) + ","
                + "\"emails\":" + array(account.emails()) + ","
                + field("keyType", account.keyType()) + ","
                + field("keyThumbprint", account.keyThumbprint())
                + "}";
    }

    private static String field(String name, String value) {
        return CertificateReport.string(name) + ":" + CertificateReport.string(value);
    }

    private static String array(List<String> values) {
        return values.stream().map(CertificateReport::string).collect(Collectors.joining(",", "[", "]"));
    }
}
