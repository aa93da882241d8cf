package dev.autocert.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/**
 * Runs the PowerDNS Authoritative Server ({@code pdns_server}) with its SQLite backend and HTTP
 * API, for tests of the {@code powerdns} provider and, with {@link Builder#rfc2136()}, of RFC
 * 2136 updates.
 *
 * <p>The API listens on {@link #apiUrl()} and wants {@link #apiKey()} in the {@code X-API-Key}
 * header (a wrong key gets 401). Each zone is created through it as a {@code Native} zone with
 * the test kit's usual records. Packet and query caches are off, so every answer shows the
 * latest change.
 *
 * <p>With {@link Builder#rfc2136()}, PowerDNS also takes dynamic updates from loopback signed
 * with {@link #keyName()}: the key is created through the API ({@code /tsigkeys}) and allowed for
 * each zone by its {@code TSIG-ALLOW-DNSUPDATE} metadata. Unlike BIND and Knot, PowerDNS cannot
 * limit a key to TXT records. {@link #rotateKey()} replaces the key's secret through the API.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final PowerDnsServer PDNS = PowerDnsServer.builder().rfc2136().build();
 * }</pre>
 *
 * <p>Requirements: {@code pdns_server}, its SQLite backend and {@code sqlite3}; on Debian and
 * Ubuntu {@code sudo apt-get install -y pdns-server pdns-backend-sqlite3 sqlite3}. See {@link
 * DnsServer} for what every test DNS server does.
 */
public final class PowerDnsServer extends DnsServer {

    /** The Debian packages that provide the programs. */
    static final String PACKAGES = "pdns-server pdns-backend-sqlite3 sqlite3";

    private static final String PURPOSE = "PowerDNS for tests of its HTTP API and of RFC 2136 updates";
    private static final Path SCHEMA = Path.of("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql");
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final boolean rfc2136;
    private final int apiPort;
    private final String apiKey;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();

    private Path pdnsServer;
    private Path sqlite3;
    private TsigKey key;

    private PowerDnsServer(Builder builder) {
        super("PowerDNS", builder.zones, builder.keyName);
        this.rfc2136 = builder.rfc2136;
        this.apiPort = FreePorts.pick(1, Set.of(currentPort()), 0).get(0);
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        this.apiKey = HexFormat.of().formatHex(random);
    }

    /**
     * Returns a builder; by default one zone, {@code example.test}, and no RFC 2136 updates.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the base URL of the server's API, {@code http://127.0.0.1:PORT/api/v1/servers/localhost}; known from construction on} */
    public URI apiUrl() {
        return URI.create("http://" + FreePorts.LOOPBACK.getHostAddress() + ":" + apiPort + "/api/v1/servers/localhost");
    }

    /** {@return the API's port on {@code 127.0.0.1}} */
    public int apiPort() {
        return apiPort;
    }

    /** {@return the API key to send in the {@code X-API-Key} header; random, fixed at construction} */
    public String apiKey() {
        return apiKey;
    }

    @Override
    boolean takesUpdates() {
        return rfc2136;
    }

    @Override
    void requirePrograms() {
        pdnsServer = Programs.require("pdns_server", PACKAGES, PURPOSE);
        sqlite3 = Programs.require("sqlite3", PACKAGES, PURPOSE);
        Programs.requireFile(SCHEMA, PACKAGES, PURPOSE);
    }

    @Override
    TsigKey newKey(Path directory, String name) {
        // PowerDNS takes the secret through its API; made here as tsig-keygen makes it.
        return TsigKey.random(name);
    }

    @Override
    ProcessRunner launch(Path directory, int port, TsigKey key, TsigKey adminKey) throws IOException {
        this.key = key;
        Path database = directory.resolve("pdns.sqlite3");
        Programs.run(directory, Files.readString(SCHEMA), List.of(sqlite3.toString(), database.toString()));
        List<String> command = new ArrayList<>(List.of(
                pdnsServer.toString(),
                "--no-config", "--daemon=no", "--guardian=no", "--disable-syslog", "--write-pid=no",
                "--socket-dir=" + directory,
                "--local-address=" + FreePorts.LOOPBACK.getHostAddress(), "--local-port=" + port,
                "--launch=gsqlite3", "--gsqlite3-database=" + database,
                "--api=yes", "--api-key=" + apiKey,
                "--webserver=yes", "--webserver-address=" + FreePorts.LOOPBACK.getHostAddress(),
                "--webserver-port=" + apiPort, "--webserver-allow-from=127.0.0.0/8",
                // Without it, start-up waits 3 s for a security status lookup.
                "--security-poll-suffix=",
                // Every answer shows the latest change.
                "--cache-ttl=0", "--query-cache-ttl=0", "--negquery-cache-ttl=0",
                "--receiver-threads=1", "--distributor-threads=1"));
        if (rfc2136) {
            command.add("--dnsupdate=yes");
            command.add("--allow-dnsupdate-from=127.0.0.0/8");
        }
        return startProcess(directory, command);
    }

    @Override
    void prepare(Path directory, long deadline) {
        awaitApi(deadline);
        if (rfc2136) {
            request("POST", "/tsigkeys", Json.object(Map.of(
                    "name", Json.string(key.name()),
                    "algorithm", Json.string(key.algorithm()),
                    "key", Json.string(key.secret()))), 201);
        }
        for (String zone : zones()) {
            createZone(zone);
        }
    }

    @Override
    void replaceKey(Path directory, ProcessRunner process, TsigKey next) {
        request("PUT", "/tsigkeys/" + next.name() + ".", Json.object(Map.of(
                "name", Json.string(next.name()),
                "algorithm", Json.string(next.algorithm()),
                "key", Json.string(next.secret()))), 200);
        key = next;
    }

    /** Through the API: PowerDNS replaces whole record sets, so the current set is read first. */
    @Override
    void change(Name zone, List<Record> added, List<Record> removed) {
        Record any = !added.isEmpty() ? added.get(0) : removed.get(0);
        String owner = any.getName().toString();
        String type = Type.string(any.getType());
        Set<String> contents = new LinkedHashSet<>();
        answers(owner, type).forEach(record -> contents.add(content(record)));
        removed.forEach(record -> contents.remove(content(record)));
        added.forEach(record -> contents.add(content(record)));
        Map<String, String> rrset = new LinkedHashMap<>();
        rrset.put("name", Json.string(owner));
        rrset.put("type", Json.string(type));
        if (contents.isEmpty()) {
            rrset.put("changetype", Json.string("DELETE"));
        } else {
            rrset.put("changetype", Json.string("REPLACE"));
            rrset.put("ttl", Integer.toString(ZoneFile.TTL));
            rrset.put("records", records(contents));
        }
        request("PATCH", "/zones/" + zone, Json.object(Map.of("rrsets", "[" + Json.object(rrset) + "]")), 204);
    }

    /** A record's data as the API wants it: master file syntax, with every TXT string quoted. */
    private static String content(Record record) {
        if (record instanceof TXTRecord txt) {
            return txt.getStrings().stream()
                    .map(string -> "\"" + string.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
                    .collect(Collectors.joining(" "));
        }
        return record.rdataToString();
    }

    private void createZone(String zone) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("name", Json.string(zone + "."));
        body.put("kind", Json.string("Native"));
        body.put("nameservers", Json.array(List.of(ZoneFile.nameServer(zone))));
        body.put("rrsets", List.of(
                        rrset(zone + ".", "SOA", ZoneFile.soa(zone)),
                        rrset(ZoneFile.nameServer(zone), "A", ZoneFile.ADDRESS),
                        rrset(zone + ".", "A", ZoneFile.ADDRESS),
                        rrset("*." + zone + ".", "A", ZoneFile.ADDRESS))
                .stream().collect(Collectors.joining(",", "[", "]")));
        request("POST", "/zones", Json.object(body), 201);
        if (rfc2136) {
            request("PUT", "/zones/" + zone + "./metadata/TSIG-ALLOW-DNSUPDATE",
                    Json.object(Map.of("metadata", Json.array(List.of(key.name())))), 200);
        }
    }

    private static String rrset(String name, String type, String content) {
        Map<String, String> rrset = new LinkedHashMap<>();
        rrset.put("name", Json.string(name));
        rrset.put("type", Json.string(type));
        rrset.put("ttl", Integer.toString(ZoneFile.TTL));
        rrset.put("changetype", Json.string("REPLACE"));
        rrset.put("records", records(Set.of(content)));
        return Json.object(rrset);
    }

    private static String records(Set<String> contents) {
        return contents.stream()
                .map(content -> Json.object(Map.of("content", Json.string(content), "disabled", "false")))
                .collect(Collectors.joining(",", "[", "]"));
    }

    private void awaitApi(long deadline) {
        HttpRequest probe = builder("").GET().build();
        while (true) {
            failIfExited("its API answered");
            try {
                if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for PowerDNS", e);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("PowerDNS did not start: its API did not answer on " + apiUrl() + " within "
                        + START_TIMEOUT.toSeconds() + " s" + tail());
            }
            pause();
        }
    }

    private void request(String method, String path, String json, int expected) {
        HttpRequest request = builder(path)
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(json))
                .build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("PowerDNS's API did not answer " + method + " " + path + ": " + e.getMessage() + tail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while calling PowerDNS's API", e);
        }
        if (response.statusCode() != expected) {
            throw new IllegalStateException("PowerDNS's API answered " + method + " " + path + " with " + response.statusCode()
                    + " (expected " + expected + "): " + response.body());
        }
    }

    private HttpRequest.Builder builder(String path) {
        return HttpRequest.newBuilder(URI.create(apiUrl() + path))
                .timeout(REQUEST_TIMEOUT)
                .header("X-API-Key", apiKey);
    }

    /** Configures a {@link PowerDnsServer}; every setting is optional. */
    public static final class Builder {

        private List<String> zones = List.of("example.test");
        private String keyName = "acme-key";
        private boolean rfc2136;

        private Builder() {
        }

        /**
         * Sets the zones to create.
         *
         * @param zones one or more zone names
         * @return this builder
         */
        public Builder zones(String... zones) {
            this.zones = zoneNames(zones);
            return this;
        }

        /**
         * Makes PowerDNS take RFC 2136 updates from loopback, signed with a TSIG key
         * ({@link #keyName(String)}) allowed for every zone.
         *
         * @return this builder
         */
        public Builder rfc2136() {
            this.rfc2136 = true;
            return this;
        }

        /**
         * Sets the name of the TSIG key RFC 2136 clients sign with; implies nothing without
         * {@link #rfc2136()}.
         *
         * @param name for example {@code acme-key} (the default)
         * @return this builder
         */
        public Builder keyName(String name) {
            this.keyName = checkKeyName(name);
            return this;
        }

        /**
         * Creates the server, which is not started yet; its ports and API key are chosen now.
         *
         * @return a new server
         */
        public PowerDnsServer build() {
            return new PowerDnsServer(this);
        }
    }
}
