package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs BIND 9 ({@code named}) as an authoritative server for tests of DNS-01 and RFC 2136.
 *
 * <p>Each zone is a primary whose {@code update-policy} is {@code grant KEY zonesub TXT}: clients
 * signing with {@link #keyName()} may change TXT records anywhere in the zone and nothing else,
 * as a careful operator sets it up; a wrong secret is answered {@code NOTAUTH} ({@code BADSIG}).
 * The key is made with {@code tsig-keygen -a hmac-sha256}. BIND has no control channel here
 * ({@code controls { };}, so instances never clash on port 953); {@link #rotateKey()} rewrites
 * the key file and reloads with {@code SIGHUP}.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final BindServer BIND = BindServer.builder().build();          // zone example.test
 * }</pre>
 *
 * <p>Requirements: {@code named} and {@code tsig-keygen}; on Debian and Ubuntu
 * {@code sudo apt-get install -y bind9 bind9-dnsutils}. Runs as the current user (no {@code -u}),
 * which may be root. See {@link DnsServer} for what every test DNS server does.
 */
public final class BindServer extends DnsServer {

    /** The Debian packages that provide the programs. */
    static final String PACKAGES = "bind9 bind9-dnsutils";

    private static final String PURPOSE = "BIND for tests of DNS-01 and RFC 2136 updates";

    private Path named;
    private Path tsigKeygen;
    private Path kill;

    private BindServer(Builder builder) {
        super("BIND", builder.zones, builder.keyName);
    }

    /**
     * Returns a builder; by default one zone, {@code example.test}, and the key {@code acme-key}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    void requirePrograms() {
        named = Programs.require("named", PACKAGES, PURPOSE);
        tsigKeygen = Programs.require("tsig-keygen", PACKAGES, PURPOSE);
        kill = Programs.require("kill", "procps", "kill -HUP to make BIND reload a rotated key");
    }

    @Override
    TsigKey newKey(Path directory, String name) {
        return TsigKey.fromBind(name, Programs.run(directory, null, List.of(tsigKeygen.toString(), "-a", TsigKey.HMAC_SHA256, name)));
    }

    @Override
    ProcessRunner launch(Path directory, int port, TsigKey key, TsigKey adminKey) throws IOException {
        writeKeys(directory, key, adminKey);
        StringBuilder config = new StringBuilder()
                .append("include \"").append(directory.resolve("tsig.key")).append("\";\n")
                .append("options {\n")
                .append("    directory \"").append(directory).append("\";\n")
                .append("    pid-file \"").append(directory.resolve("named.pid")).append("\";\n")
                .append("    session-keyfile \"").append(directory.resolve("session.key")).append("\";\n")
                .append("    managed-keys-directory \"").append(directory).append("\";\n")
                .append("    listen-on port ").append(port).append(" { 127.0.0.1; };\n")
                .append("    listen-on-v6 { none; };\n")
                .append("    recursion no;\n")
                .append("    dnssec-validation no;\n")
                .append("    allow-query { any; };\n")
                .append("    notify no;\n")
                .append("};\n")
                // No rndc listener: it would take port 953, shared by every instance.
                .append("controls { };\n");
        for (String zone : zones()) {
            Path file = directory.resolve(zone + ".zone");
            Files.writeString(file, ZoneFile.render(zone));
            config.append("zone \"").append(zone).append("\" {\n")
                    .append("    type primary;\n")
                    .append("    file \"").append(file).append("\";\n")
                    .append("    update-policy {\n")
                    .append("        grant ").append(key.name()).append(" zonesub TXT;\n")
                    .append("        grant ").append(adminKey.name()).append(" zonesub ANY;\n")
                    .append("    };\n")
                    .append("};\n");
        }
        Path configFile = directory.resolve("named.conf");
        Files.writeString(configFile, config);
        // -g: foreground, logging to standard error; -4: IPv4 only.
        return startProcess(directory, List.of(named.toString(), "-g", "-4", "-c", configFile.toString()));
    }

    @Override
    void replaceKey(Path directory, ProcessRunner process, TsigKey next) {
        try {
            TsigKey admin = TsigKey.fromBind(ADMIN_KEY_NAME, Files.readString(directory.resolve("admin.key")));
            writeKeys(directory, next, admin);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not rewrite BIND's key file", e);
        }
        // SIGHUP makes named reload its configuration, the included key file with it.
        Programs.run(directory, null, List.of(kill.toString(), "-HUP", Long.toString(process.pid())));
    }

    private static void writeKeys(Path directory, TsigKey key, TsigKey adminKey) throws IOException {
        Files.writeString(directory.resolve("admin.key"), adminKey.bindStatement());
        Files.writeString(directory.resolve("tsig.key"), key.bindStatement() + adminKey.bindStatement());
    }

    /** Configures a {@link BindServer}; every setting is optional. */
    public static final class Builder {

        private List<String> zones = List.of("example.test");
        private String keyName = "acme-key";

        private Builder() {
        }

        /**
         * Sets the zones to serve, each with the same initial records and update policy.
         *
         * @param zones one or more zone names, such as {@code example.test} and {@code acme.test}
         * @return this builder
         */
        public Builder zones(String... zones) {
            this.zones = zoneNames(zones);
            return this;
        }

        /**
         * Sets the name of the TSIG key RFC 2136 clients sign with.
         *
         * @param name for example {@code acme-key} (the default)
         * @return this builder
         */
        public Builder keyName(String name) {
            this.keyName = checkKeyName(name);
            return this;
        }

        /**
         * Creates the server, which is not started yet; its port is chosen now.
         *
         * @return a new server
         */
        public BindServer build() {
            return new BindServer(this);
        }
    }
}
