package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.InvalidSettingException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A DNS provider's credentials and options, as users already keep them: a Certbot-style INI file
 * ({@code autocert.dns-credentials}, {@code dns_cloudflare_api_token = …}, which may also hold
 * lego's variable names, {@code CLOUDFLARE_DNS_API_TOKEN = …}), then the environment with lego's
 * variable names, then lego's {@code NAME_FILE} variants naming a file that holds the value.
 *
 * <p>A credentials file that group or others may read, or that a user other than this server's
 * or root owns (root reads every file anyway), is refused
 * with the {@code chmod}/{@code chown} that fixes it ({@code autocert.dns-credentials-permissions=warn}
 * logs a warning instead, as Certbot does). Values are never logged, nor put in exceptions.
 * Read anew for each order, so a rotated token is used without a restart. Immutable.
 */
public final class DnsCredentials {

    private static final Logger LOG = LoggerFactory.getLogger(DnsCredentials.class);
    private static final String SETTING = AutocertSettings.PREFIX + "dns-credentials";

    /**
     * A key as Certbot ({@code dns_cloudflare_api_token}, old third-party plugins {@code
     * certbot_dns_duckdns:dns_duckdns_token}) and lego ({@code CLOUDFLARE_DNS_API_TOKEN}) write
     * them. Anything else on the left of '=' is taken for a stray secret (base64 ends in
     * '='), refused by line number, and never kept as a key that {@link #toString()} would show.
     */
    private static final Pattern KEY = Pattern.compile("[A-Za-z][A-Za-z0-9]*([_:.-][A-Za-z0-9]+)+");

    private final String provider;
    private final Path file;
    private final Map<String, String> values;
    private final Map<String, String> environment;

    private DnsCredentials(String provider, Path file, Map<String, String> values, Map<String, String> environment) {
        this.provider = provider;
        this.file = file;
        this.values = Map.copyOf(values);
        this.environment = Map.copyOf(environment);
    }

    /**
     * Reads the credentials of {@code provider}.
     *
     * @param file        the credentials file, or null when there is none
     * @param strict      whether a file others may read is refused (else a warning)
     * @param environment the process's environment ({@link System#getenv()})
     * @throws InvalidSettingException naming {@code autocert.dns-credentials} when the file is
     *         missing, unreadable, unsafe or malformed
     */
    public static DnsCredentials read(String provider, Path file, boolean strict, Map<String, String> environment) {
        requireNonNull(provider, "provider");
        Map<String, String> values = new LinkedHashMap<>();
        if (file != null) {
            checkPermissions(file, strict);
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new InvalidSettingException(SETTING, "'" + file + "' does not exist; create it with the provider's "
                        + "credentials (mode 0600), or point " + SETTING + " at the right file");
            } catch (IOException e) {
                throw new InvalidSettingException(SETTING, "'" + file + "' cannot be read (" + e.getClass().getSimpleName()
                        + "); check that this process's user may read it");
            }
            int number = 0;
            for (String line : lines) {
                number++;
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#") || l.startsWith(";") || l.startsWith("[")) {
                    continue;
                }
                int eq = l.indexOf('=');
                if (eq <= 0 || !KEY.matcher(l.substring(0, eq).strip()).matches()) {
                    // never echo the line: it may hold a secret
                    throw new InvalidSettingException(SETTING, "'" + file + "' line " + number
                            + " is not 'key = value'; write each credential as, for example, dns_" + provider + "_api_token = …");
                }
                values.put(l.substring(0, eq).strip(), unquote(l.substring(eq + 1).strip()));
            }
        }
        return new DnsCredentials(provider, file, values, environment);
    }

    /** Credentials from a map of keys, as a test or a program builds them. */
    public static DnsCredentials of(String provider, Map<String, String> values) {
        return new DnsCredentials(provider, null, values, Map.of());
    }

    /** {@return the provider these credentials are for} */
    public String provider() {
        return provider;
    }

    /**
     * The value of a credential or option: the file's {@code certbotKey} or {@code legoVariable},
     * then the environment's {@code legoVariable}, then the file {@code legoVariable_FILE} names.
     *
     * @param certbotKey   Certbot's INI key, such as {@code dns_cloudflare_api_token}, or null
     * @param legoVariable lego's variable, such as {@code CLOUDFLARE_DNS_API_TOKEN}, or null
     */
    public Optional<String> get(String certbotKey, String legoVariable) {
        for (String key : new String[] {certbotKey, legoVariable}) {
            if (key != null && values.containsKey(key) && !values.get(key).isEmpty()) {
                return Optional.of(values.get(key));
            }
        }
        if (legoVariable == null) {
            return Optional.empty();
        }
        String env = environment.get(legoVariable);
        if (env != null && !env.isEmpty()) {
            return Optional.of(env);
        }
        String named = values.getOrDefault(legoVariable + "_FILE", environment.get(legoVariable + "_FILE"));
        if (named != null && !named.isEmpty()) {
            Path path = Path.of(named);
            try {
                return Optional.of(Files.readString(path, StandardCharsets.UTF_8).strip());
            } catch (IOException e) {
                throw new InvalidSettingException(SETTING, legoVariable + "_FILE names '" + path + "', which cannot be read ("
                        + e.getClass().getSimpleName() + "); check the path and that this process's user may read it");
            }
        }
        return Optional.empty();
    }

    /**
     * {@return the values of the credentials file (or map) whose keys {@code key} accepts} For a
     * provider that must keep them out of what it quotes, such as a program's output.
     */
    List<String> fileValues(Predicate<String> key) {
        return values.entrySet().stream().filter(e -> key.test(e.getKey())).map(Map.Entry::getValue).toList();
    }

    /**
     * Like {@link #get}, but missing is an error that says where to put it.
     *
     * @throws InvalidSettingException naming both spellings and where they are looked for
     */
    public String require(String certbotKey, String legoVariable) {
        return get(certbotKey, legoVariable).orElseThrow(() -> missing(List.of(certbotKey == null ? legoVariable : certbotKey),
                List.of(legoVariable == null ? certbotKey : legoVariable)));
    }

    /** A duration option in lego's form (seconds) or Autocert's ({@code 90s}, {@code 2m}). */
    public Optional<Duration> duration(String legoVariable) {
        return get(null, legoVariable).map(v -> {
            try {
                return v.matches("[0-9]+") ? Duration.ofSeconds(Long.parseLong(v))
                        : Duration.parse("PT" + v.toUpperCase(java.util.Locale.ROOT));
            } catch (RuntimeException e) {
                throw new InvalidSettingException(SETTING, legoVariable + " is '" + v + "'; expected seconds, like 120");
            }
        });
    }

    /** An integer option, such as a TTL. */
    public Optional<Integer> integer(String certbotKey, String legoVariable) {
        return get(certbotKey, legoVariable).map(v -> {
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new InvalidSettingException(SETTING, (certbotKey != null ? certbotKey : legoVariable) + " is '" + v
                        + "'; expected a whole number");
            }
        });
    }

    /**
     * The error for credentials that are missing: one of {@code certbotKeys} in the file, or
     * one of {@code legoVariables} in the environment.
     */
    public InvalidSettingException missing(List<String> certbotKeys, List<String> legoVariables) {
        String where = file != null ? "in " + file + " (" + SETTING + ")" : "in a credentials file named by " + SETTING;
        return new InvalidSettingException(SETTING, "the " + provider + " DNS provider needs " + String.join(" or ", certbotKeys)
                + " " + where + ", or " + String.join(" or ", legoVariables) + " in the environment");
    }

    /** The error for a credential whose value is unusable; names the key, never the value. */
    public InvalidSettingException invalid(String key, String problem) {
        return new InvalidSettingException(SETTING, "the " + provider + " DNS provider's " + key + " " + problem);
    }

    private static void checkPermissions(Path file, boolean strict) {
        List<String> problems = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        try {
            if (!Files.exists(file)) {
                return; // reported by the read
            }
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                problems.add("may be read or written by users other than its owner (mode "
                        + java.nio.file.attribute.PosixFilePermissions.toString(permissions) + ")");
                fixes.add("chmod 600 " + file);
            }
            // the file read, through any symbolic link (a Kubernetes or Docker secret is one), as for the mode above
            UserPrincipal owner = Files.getOwner(file);
            String user = System.getProperty("user.name");
            if (user != null && !owner.getName().equals(user) && !owner.getName().equals("root")) {
                problems.add("is owned by " + owner.getName() + ", not by " + user + ", who runs this server");
                fixes.add("chown " + user + " " + file);
            }
        } catch (UnsupportedOperationException e) {
            return; // no POSIX permissions here (Windows): nothing to check
        } catch (IOException e) {
            throw new InvalidSettingException(SETTING, "'" + file + "' cannot be inspected (" + e.getClass().getSimpleName() + ")");
        }
        if (problems.isEmpty()) {
            return;
        }
        String message = "'" + file + "' " + String.join(" and ", problems) + "; it holds secrets: run " + String.join(" and ", fixes);
        if (strict) {
            throw new InvalidSettingException(SETTING, message + " (or set " + AutocertSettings.PREFIX
                    + "dns-credentials-permissions=warn to use it anyway)");
        }
        LOG.warn("{}: {}", SETTING, message);
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }

    /** The provider and the file's path; never a value. */
    @Override
    public String toString() {
        return "DnsCredentials{" + provider + (file != null ? ", " + file : "") + ", keys=" + values.keySet() + "}";
    }
}
