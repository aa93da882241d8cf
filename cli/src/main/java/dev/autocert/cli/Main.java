package dev.autocert.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code autocert} command: Certbot's verbs on the storage the servers use. Exit codes are
 * {@link ExitCodes}; {@code --help} on any verb lists its options, every {@code autocert.*}
 * setting among them ({@code --domains}, {@code --storage}, …).
 */
@Command(name = "autocert", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Obtains, renews, lists and revokes certificates on the storage Autocert-enabled servers use.%n"
                + "Settings are the servers' own: --config FILE (a .properties file, Jetty's start.d/autocert.ini or "
                + "Spring Boot's application.properties) and --NAME for each autocert.NAME setting.",
        subcommands = {
            CertificatesCommand.class,
            CertonlyCommand.class,
            RenewCommand.class,
            RevokeCommand.class,
            DeleteCommand.class,
            RegisterCommand.class,
            UpdateAccountCommand.class,
            UnregisterCommand.class,
            ShowAccountCommand.class,
            ImportCertbotCommand.class,
            MigrateCommand.class,
            CommandLine.HelpCommand.class,
            picocli.AutoComplete.GenerateCompletion.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:failure (nothing done, or what was asked failed)",
            "2:usage: an unknown option or an invalid setting",
            "3:partial failure: some certificates succeeded, others failed"
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command as {@code main} would, writing to {@code out} and {@code err}; {@return the exit code} */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        Logging.configure(args);
        CommandLine commandLine = commandLine();
        commandLine.setOut(out);
        commandLine.setErr(err);
        return commandLine.execute(args);
    }

    /** The command with its verbs, each verb that takes settings given an option per {@code autocert.*} setting. */
    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler(new Failures());
        commandLine.setParameterExceptionHandler(new Failures());
        for (CommandLine sub : commandLine.getSubcommands().values()) {
            if (sub.getCommand() instanceof SettingsCommand) {
                SettingsOptions.addTo(sub.getCommandSpec());
            }
        }
        return commandLine;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Name a verb: " + String.join(", ",
                spec.subcommands().keySet().stream().filter(n -> !n.equals("help") && !n.equals("generate-completion")).toList()));
    }

    /** The version, from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"autocert " + (version != null ? version : "(development build)") + ", Java "
                    + System.getProperty("java.version")};
        }
    }
}
