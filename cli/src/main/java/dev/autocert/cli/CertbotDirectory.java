package dev.autocert.cli;

import dev.autocert.core.CertifiedKey;
import dev.autocert.core.StorageImport;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jose4j.json.JsonUtil;
import org.jose4j.jwk.PublicJsonWebKey;
import org.jose4j.lang.JoseException;

/**
 * Certbot's configuration directory ({@code --config-dir}, {@code /etc/letsencrypt} by default),
 * read and never written: its lineages and its ACME accounts.
 *
 * <pre>
 * renewal/NAME.conf                          a lineage: where its files are, and the options of its last run
 * archive/NAME/{cert,chain,fullchain,privkey}N.pem   its versions
 * live/NAME/cert.pem -&gt; ../../archive/NAME/certN.pem   the current version, by its link
 * accounts/HOST[:PORT]/PATH/ID/{private_key.json,regr.json,meta.json}   an account (a JWK, and its URL in "uri")
 * </pre>
 *
 * <p>Paths in a renewal file are absolute; when the directory was copied elsewhere (its
 * {@code config_dir} is not this directory), they are read relative to this one.
 */
final class CertbotDirectory {

    /** Certbot's default CA, when a renewal file names none. */
    static final URI DEFAULT_SERVER = URI.create("https://acme-v02.api.letsencrypt.org/directory");
    private static final Pattern CERT_VERSION = Pattern.compile("cert(\\d+)\\.pem");
    /** Let's Encrypt's v2 directories use the accounts of the v1 ones, as Certbot does (its LE_REUSE_SERVERS). */
    private static final Map<String, String> REUSED_ACCOUNTS = Map.of(
            "acme-v02.api.letsencrypt.org/directory", "acme-v01.api.letsencrypt.org/directory",
            "acme-staging-v02.api.letsencrypt.org/directory", "acme-staging.api.letsencrypt.org/directory");

    private final Path root;

    private CertbotDirectory(Path root) {
        this.root = root;
    }

    /** Why a lineage or an account cannot be taken over, in a sentence that names the file and the fix. */
    static final class Unusable extends Exception {
        private static final long serialVersionUID = 1L;

        Unusable(String message) {
            super(message);
        }
    }

    /** One lineage as Certbot keeps it. */
    record Lineage(String name, Path renewalFile, CertbotRenewalConf conf, URI server, Optional<String> accountId,
            SortedMap<Integer, CertifiedKey> versions, int current, List<String> skipped) {

        CertifiedKey currentKey() {
            return versions.get(current);
        }
    }

    /** One ACME account as Certbot keeps it. */
    record Account(URI server, String id, Path directory, KeyPair keyPair, URI location, Optional<String> email) {
    }

    /**
     * The Certbot directory {@code dir}.
     *
     * @throws Failures.CommandFailure when it is not one (no {@code renewal/} in it)
     */
    static CertbotDirectory open(Path dir) {
        Path root = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(root)) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "DIR: " + root + " is not a directory; name Certbot's configuration "
                    + "directory (its --config-dir, /etc/letsencrypt by default)");
        }
        if (!Files.isDirectory(root.resolve("renewal"))) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "DIR: " + root + " is not a Certbot configuration directory (it has "
                    + "no renewal/ directory); name the directory Certbot's --config-dir used, /etc/letsencrypt by default");
        }
        return new CertbotDirectory(root);
    }

    Path root() {
        return root;
    }

    /** The names of the lineages, from {@code renewal/NAME.conf}, sorted. */
    List<String> lineageNames() throws IOException {
        try (Stream<Path> files = Files.list(root.resolve("renewal"))) {
            return files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".conf"))
                    .map(f -> f.substring(0, f.length() - ".conf".length())).sorted().toList();
        } catch (AccessDeniedException e) {
            throw new Failures.CommandFailure(ExitCodes.FAILURE, "DIR: " + root.resolve("renewal") + " cannot be read (permission "
                    + "denied); run the command as the user that owns " + root + " (root for /etc/letsencrypt)");
        }
    }

    /**
     * Reads the lineage {@code name}: every version in its archive directory, and which one
     * {@code live/NAME} points to. A version other than the current one that cannot be read is
     * left out, and said so in {@link Lineage#skipped()}.
     *
     * @throws Unusable when the current version cannot be used
     */
    Lineage lineage(String name) throws Unusable {
        Path renewalFile = root.resolve("renewal").resolve(name + ".conf");
        CertbotRenewalConf conf;
        try {
            conf = CertbotRenewalConf.parse(Files.readString(renewalFile, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new Unusable(renewalFile + " cannot be read: " + describe(e));
        }
        Path archive = locate(conf, "archive_dir", root.resolve("archive").resolve(name));
        Path liveCert = locate(conf, "cert", root.resolve("live").resolve(name).resolve("cert.pem"));
        List<Integer> numbers = new ArrayList<>();
        try (Stream<Path> files = Files.list(archive)) {
            files.map(p -> CERT_VERSION.matcher(p.getFileName().toString())).filter(Matcher::matches)
                    .map(m -> Integer.parseInt(m.group(1))).sorted().forEach(numbers::add);
        } catch (IOException e) {
            throw new Unusable("its archive directory " + archive + " cannot be read: " + describe(e));
        }
        if (numbers.isEmpty()) {
            throw new Unusable("its archive directory " + archive + " holds no certN.pem");
        }
        int current = currentVersion(liveCert, archive, numbers);
        SortedMap<Integer, CertifiedKey> versions = new TreeMap<>();
        List<String> skipped = new ArrayList<>();
        for (int number : numbers) {
            try {
                versions.put(number, readVersion(archive, number));
            } catch (Unusable e) {
                if (number == current) {
                    throw new Unusable("its current version " + number + " cannot be used: " + e.getMessage());
                }
                skipped.add("version " + number + " left out: " + e.getMessage());
            }
        }
        URI server;
        try {
            server = conf.param("server").map(URI::create).orElse(DEFAULT_SERVER);
        } catch (IllegalArgumentException e) {
            throw new Unusable(renewalFile + ": server = " + conf.param("server").orElse("") + " is not a URL");
        }
        return new Lineage(name, renewalFile, conf, server, conf.param("account"), versions, current, List.copyOf(skipped));
    }

    /** The version {@code live/NAME/cert.pem} points to, as Certbot reads it; or, if it is a copy, the archive version with its bytes. */
    private static int currentVersion(Path liveCert, Path archive, List<Integer> numbers) throws Unusable {
        try {
            if (Files.isSymbolicLink(liveCert)) {
                Matcher m = CERT_VERSION.matcher(Files.readSymbolicLink(liveCert).getFileName().toString());
                if (m.matches() && numbers.contains(Integer.parseInt(m.group(1)))) {
                    return Integer.parseInt(m.group(1));
                }
                throw new Unusable(liveCert + " points to " + Files.readSymbolicLink(liveCert) + ", which is no certN.pem in "
                        + archive + "; run 'certbot update_symlinks', or import with the link repaired");
            }
            byte[] live = Files.readAllBytes(liveCert);
            for (int number : numbers) {
                if (Arrays.equals(live, Files.readAllBytes(archive.resolve("cert" + number + ".pem")))) {
                    return number;
                }
            }
            throw new Unusable(liveCert + " is no link to a version in " + archive + " nor a copy of one");
        } catch (IOException e) {
            throw new Unusable(liveCert + " cannot be read: " + describe(e));
        }
    }

    /** Version {@code number}: {@code privkeyN.pem} and {@code fullchainN.pem} (or {@code certN.pem} and {@code chainN.pem}), the key matching. */
    private static CertifiedKey readVersion(Path archive, int number) throws Unusable {
        Path privkey = archive.resolve("privkey" + number + ".pem");
        Path fullchain = archive.resolve("fullchain" + number + ".pem");
        try {
            byte[] chain;
            if (Files.exists(fullchain)) {
                chain = Files.readAllBytes(fullchain);
            } else {
                byte[] cert = Files.readAllBytes(archive.resolve("cert" + number + ".pem"));
                byte[] issuers = Files.exists(archive.resolve("chain" + number + ".pem"))
                        ? Files.readAllBytes(archive.resolve("chain" + number + ".pem")) : new byte[0];
                chain = (new String(cert, StandardCharsets.US_ASCII) + "\n" + new String(issuers, StandardCharsets.US_ASCII))
                        .getBytes(StandardCharsets.US_ASCII);
            }
            CertifiedKey key = StorageImport.readPem(Files.readAllBytes(privkey), chain);
            if (!key.keyMatches()) {
                throw new Unusable(privkey.getFileName() + " does not match " + fullchain.getFileName());
            }
            return key;
        } catch (IOException e) {
            throw new Unusable(describe(e) + " (" + archive + ", version " + number + ")");
        }
    }

    /**
     * A path a renewal file names: read below this directory when the file names it below
     * another {@code config_dir} (a copied directory), as written otherwise, and {@code fallback}
     * when the file names none or what it names does not exist.
     */
    private Path locate(CertbotRenewalConf conf, String key, Path fallback) {
        Optional<String> written = conf.get(CertbotRenewalConf.TOP, key);
        if (written.isEmpty()) {
            return fallback;
        }
        Path path = Path.of(written.get());
        Optional<Path> configDir = conf.param("config_dir").map(Path::of).map(Path::normalize);
        if (configDir.isPresent() && !configDir.get().equals(root) && path.startsWith(configDir.get())) {
            Path rebased = root.resolve(configDir.get().relativize(path));
            if (Files.exists(rebased, LinkOption.NOFOLLOW_LINKS)) {
                return rebased;
            }
        }
        return Files.exists(path, LinkOption.NOFOLLOW_LINKS) || !Files.exists(fallback, LinkOption.NOFOLLOW_LINKS) ? path : fallback;
    }

    /**
     * The account {@code id} at {@code server}: {@code accounts/HOST[:PORT]/PATH/ID/}, its key
     * ({@code private_key.json}, a JWK) and its URL ({@code regr.json}'s {@code uri}).
     *
     * @throws Unusable when it is missing or cannot be read
     */
    Account account(URI server, String id) throws Unusable {
        String serverPath = serverPath(server);
        Path directory = root.resolve("accounts").resolve(serverPath).resolve(id);
        if (!Files.isDirectory(directory) && REUSED_ACCOUNTS.containsKey(serverPath)) {
            directory = root.resolve("accounts").resolve(REUSED_ACCOUNTS.get(serverPath)).resolve(id);
        }
        if (!Files.isDirectory(directory)) {
            throw new Unusable("Certbot's account " + id + " at " + server + " is not in " + root.resolve("accounts").resolve(serverPath));
        }
        try {
            PublicJsonWebKey jwk = PublicJsonWebKey.Factory.newPublicJwk(Files.readString(directory.resolve("private_key.json")));
            if (jwk.getPrivateKey() == null) {
                throw new Unusable(directory.resolve("private_key.json") + " holds no private key");
            }
            Map<String, Object> regr = JsonUtil.parseJson(Files.readString(directory.resolve("regr.json")));
            Object uri = regr.get("uri");
            if (!(uri instanceof String location) || location.isBlank()) {
                throw new Unusable(directory.resolve("regr.json") + " has no account URL (\"uri\")");
            }
            Optional<String> email = Optional.empty();
            if (regr.get("body") instanceof Map<?, ?> body && body.get("contact") instanceof List<?> contacts) {
                email = contacts.stream().map(String::valueOf).filter(c -> c.startsWith("mailto:")).map(c -> c.substring("mailto:".length()))
                        .findFirst();
            }
            return new Account(server, id, directory, new KeyPair(jwk.getPublicKey(), jwk.getPrivateKey()), URI.create(location), email);
        } catch (IOException e) {
            throw new Unusable("Certbot's account " + id + " cannot be read: " + describe(e));
        } catch (JoseException | IllegalArgumentException | ClassCastException e) {
            // jose4j's messages may quote the JSON, which holds the private key: never shown
            throw new Unusable("Certbot's account " + id + " in " + directory + " is not a JWK key and a registration Certbot wrote ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /** Every account directory, as {@code HOST[:PORT]/PATH/ID}, for the report of what was left. */
    List<String> accountPaths() {
        Path accounts = root.resolve("accounts");
        if (!Files.isDirectory(accounts)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(accounts)) {
            return files.filter(p -> p.getFileName().toString().equals("regr.json"))
                    .map(p -> accounts.relativize(p.getParent()).toString()).sorted().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }

    /** Where Certbot keeps the accounts of {@code server}: its host, port and path ({@code localhost:14000/dir}). */
    static String serverPath(URI server) {
        String path = server.getRawPath() == null ? "" : server.getRawPath();
        return (server.getRawAuthority() + path).replaceAll("/+$", "");
    }

    private static String describe(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied on " + e.getMessage() + "; run the command as the user that owns the directory (root for "
                    + "/etc/letsencrypt)";
        }
        if (e instanceof NoSuchFileException) {
            return e.getMessage() + " is missing";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
