package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs Knot DNS ({@code knotd}) as an authoritative server for tests of DNS-01 and RFC 2136.
 *
 * <p>Each zone's ACL lets clients signing with {@link #keyName()} update TXT records and nothing
 * else ({@code action: update}, {@code update-type: TXT}); an unknown key or wrong secret is
 * answered {@code NOTAUTH}. The key is made with {@code keymgr -t NAME hmac-sha256}. Updates
 * live in memory only (no journal, no zone file write-back). {@link #rotateKey()} rewrites the
 * configuration and reloads it with {@code knotc reload}.
 *
 * <p>Knot's trap: the {@code database: storage} directory must exist before {@code knotd} starts,
 * or every update fails with SERVFAIL ("DDNS, processing failed (not exists)"); this class makes it.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final KnotServer KNOT = KnotServer.builder().build();          // zone example.test
 * }</pre>
 *
 * <p>Requirements: {@code knotd}, {@code knotc} and {@code keymgr}; on Debian and Ubuntu
 * {@code sudo apt-get install -y knot knot-dnsutils}. See {@link DnsServer} for what every test
 * DNS server does.
 */
public final class KnotServer extends DnsServer {

    /** The Debian packages that provide the programs. */
    static final String PACKAGES = "knot knot-dnsutils";

    private static final String PURPOSE = "Knot DNS for tests of DNS-01 and RFC 2136 updates";

    private Path knotd;
    private Path knotc;
    private Path keymgr;
    private TsigKey adminKey;

    private KnotServer(Builder builder) {
        super("Knot", builder.zones, builder.keyName);
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
        knotd = Programs.require("knotd", PACKAGES, PURPOSE);
        knotc = Programs.require("knotc", PACKAGES, PURPOSE);
        keymgr = Programs.require("keymgr", PACKAGES, PURPOSE);
    }

    @Override
    TsigKey newKey(Path directory, String name) {
        return TsigKey.fromKnot(name, Programs.run(directory, null, List.of(keymgr.toString(), "-t", name, TsigKey.HMAC_SHA256)));
    }

    @Override
    ProcessRunner launch(Path directory, int port, TsigKey key, TsigKey adminKey) throws IOException {
        this.adminKey = adminKey;
        Files.createDirectories(directory.resolve("db"));
        for (String zone : zones()) {
            Files.writeString(directory.resolve(zone + ".zone"), ZoneFile.render(zone));
        }
        Path configFile = writeConfig(directory, key);
        return startProcess(directory, List.of(knotd.toString(), "-c", configFile.toString()));
    }

    @Override
    void replaceKey(Path directory, ProcessRunner process, TsigKey next) {
        Path configFile;
        try {
            configFile = writeConfig(directory, next);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not rewrite Knot's configuration", e);
        }
        Programs.run(directory, null, List.of(knotc.toString(), "-c", configFile.toString(), "reload"));
    }

    private Path writeConfig(Path directory, TsigKey key) throws IOException {
        StringBuilder config = new StringBuilder()
                .append("server:\n")
                .append("    listen: 127.0.0.1@").append(currentPort()).append("\n")
                .append("    rundir: \"").append(directory).append("\"\n")
                .append("    pidfile: \"").append(directory.resolve("knot.pid")).append("\"\n")
                .append("log:\n")
                .append("  - target: stdout\n")
                .append("    any: info\n")
                .append("database:\n")
                // Must exist before knotd starts (see the class comment).
                .append("    storage: \"").append(directory.resolve("db")).append("\"\n")
                .append("key:\n")
                .append(key.knotEntry())
                .append(adminKey.knotEntry())
                .append("acl:\n")
                .append("  - id: acme-update\n")
                .append("    key: ").append(key.name()).append("\n")
                .append("    action: update\n")
                .append("    update-type: TXT\n")
                .append("  - id: testkit-update\n")
                .append("    key: ").append(adminKey.name()).append("\n")
                .append("    action: update\n")
                .append("template:\n")
                .append("  - id: default\n")
                .append("    storage: \"").append(directory).append("\"\n")
                .append("    file: \"%s.zone\"\n")
                .append("    zonefile-sync: -1\n")
                .append("    journal-content: none\n")
                .append("zone:\n");
        for (String zone : zones()) {
            config.append("  - domain: ").append(zone).append("\n")
                    .append("    acl: [ acme-update, testkit-update ]\n");
        }
        Path configFile = directory.resolve("knot.conf");
        Files.writeString(configFile, config);
        return configFile;
    }

    /** Configures a {@link KnotServer}; every setting is optional. */
    public static final class Builder {

        private List<String> zones = List.of("example.test");
        private String keyName = "acme-key";

        private Builder() {
        }

        /**
         * Sets the zones to serve, each with the same initial records and ACL.
         *
         * @param zones one or more zone names
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
        public KnotServer build() {
            return new KnotServer(this);
        }
    }
}
