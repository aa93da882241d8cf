package dev.autocert.cli;

import dev.autocert.core.InvalidSettingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * How {@code certonly} and {@code renew} answer http-01, as Certbot's authenticators: the
 * standalone server on {@code --http-port} (the default), or files in a web server's root
 * ({@code --webroot PATH}, or Certbot's {@code --webroot -w PATH}). dns-01 ({@code --challenges
 * dns-01 --dns-provider …}) and manual hooks ({@code --manual-auth-hook}) are settings.
 */
final class ChallengeOptions {

    @Option(names = "--standalone", order = 20,
            description = "Answer http-01 with a built-in server on --http-port (default 80) while ordering. The default "
                    + "unless --webroot, --manual-auth-hook or --challenges dns-01 is given.")
    boolean standalone;

    @Option(names = "--webroot", arity = "0..1", paramLabel = "PATH", order = 21,
            description = "Answer http-01 through the web server that serves http://DOMAIN/ from PATH: the challenge "
                    + "file is written under PATH/.well-known/acme-challenge/ and removed afterwards.")
    String webroot;

    @Option(names = {"-w", "--webroot-path"}, paramLabel = "PATH", order = 22, description = "The web root for --webroot (Certbot's spelling).")
    Path webrootPath;

    /**
     * The web root to write challenges to, when one was given.
     *
     * @throws InvalidSettingException naming the option when it is not a directory or clashes with --standalone
     */
    Optional<Path> webroot() {
        Path path = webrootPath != null ? webrootPath : webroot != null && !webroot.isBlank() ? Path.of(webroot) : null;
        if (path == null && webroot != null) {
            throw new InvalidSettingException("--webroot", "needs the web root: --webroot PATH, or --webroot -w PATH");
        }
        if (path == null) {
            return Optional.empty();
        }
        if (standalone) {
            throw new InvalidSettingException("--webroot", "and --standalone both answer http-01; choose one");
        }
        Path absolute = path.toAbsolutePath().normalize();
        if (!Files.isDirectory(absolute)) {
            throw new InvalidSettingException("--webroot", "'" + absolute + "' is not a directory; give the directory your web "
                    + "server serves http://DOMAIN/ from, such as /var/www/html");
        }
        return Optional.of(absolute);
    }
}
