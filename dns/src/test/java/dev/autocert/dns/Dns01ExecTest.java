package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertificateManager;
import dev.autocert.core.CertifiedKey;
import dev.autocert.testkit.BindServer;
import dev.autocert.testkit.PebbleServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * DNS-01 end to end through the {@code exec} provider, as a user with a script of their own has
 * it: a shell script with lego's contract ({@code present|cleanup FQDN VALUE}) that updates BIND
 * with {@code nsupdate}, and Pebble validating by querying BIND.
 */
class Dns01ExecTest {

    @RegisterExtension
    static final BindServer BIND = BindServer.builder().build();

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().dnsServer(BIND.address()).build();

    @TempDir
    Path dir;

    @Test
    void issuesAWildcardAndApexCertificateThroughTheUsersScript() throws Exception {
        Path calls = dir.resolve("calls.log");
        Path script = dir.resolve("dns-hook.sh");
        Files.writeString(script, """
                #!/bin/sh
                # lego's exec contract: $1 is present or cleanup, $2 the record name, $3 the TXT value
                echo "$1 $2" >> '%s'
                case "$1" in
                  present) line="update add $2 60 IN TXT \\"$3\\"" ;;
                  cleanup) line="update delete $2 TXT \\"$3\\"" ;;
                  *) exit 2 ;;
                esac
                printf 'server 127.0.0.1 %d\\n%%s\\nsend\\n' "$line" | nsupdate -y '%s:%s:%s'
                """.formatted(calls, BIND.port(), BIND.algorithm(), BIND.keyName(), BIND.secret()));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        Path credentials = Dns01Fixtures.writeCredentials(dir.resolve("exec.ini"), "EXEC_PATH = " + script + "\n");
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties())
                .properties(Map.of("autocert.challenges", "dns-01", "autocert.dns-provider", "exec",
                        "autocert.dns-credentials", credentials.toString(), "autocert.dns-propagation-check", "resolvers",
                        "autocert.dns-resolvers", "127.0.0.1:" + BIND.port(), "autocert.dns-polling-interval", "PT0.2S"))
                .domains("*.example.test,example.test").email("admin@example.test").storage(dir.resolve("storage")).build();
        Dns01Fixtures.Events events = new Dns01Fixtures.Events();

        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, "*.example.test", Dns01Fixtures.TIMEOUT).certificate();
            assertEquals(List.of("*.example.test", "example.test"), Dns01Fixtures.dnsNames(issued.certificate()));
            Dns01Fixtures.verifyChain(issued.chain(), PEBBLE.issuingRoot());
        }
        List<String> lines = Files.readAllLines(calls);
        assertEquals(List.of("present _acme-challenge.example.test.", "present _acme-challenge.example.test.",
                "cleanup _acme-challenge.example.test.", "cleanup _acme-challenge.example.test."), lines);
        assertEquals(List.of(), BIND.txt("_acme-challenge.example.test"), "the script removed both values");
        assertTrue(Files.exists(dir.resolve("storage/live/_.example.test/fullchain.pem")));
    }

    @Test
    void anOrderStoppedWhileAProgramRunsStillCleansUpWhatItPresented() throws Exception {
        Path presented = dir.resolve("presented.log");
        Path cleaned = dir.resolve("cleaned.log");
        Path script = dir.resolve("slow-hook.sh");
        // the second present hangs, as a slow DNS API would; the engine is stopped meanwhile
        Files.writeString(script, """
                #!/bin/sh
                case "$1" in
                  present) echo "$3" >> '%1$s'; if [ "$(wc -l < '%1$s')" -ge 2 ]; then sleep 60; fi ;;
                  cleanup) echo "$3" >> '%2$s' ;;
                esac
                """.formatted(presented, cleaned));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        Path credentials = Dns01Fixtures.writeCredentials(dir.resolve("exec.ini"), "EXEC_PATH = " + script + "\n");
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties())
                .properties(Map.of("autocert.challenges", "dns-01", "autocert.dns-provider", "exec",
                        "autocert.dns-credentials", credentials.toString(), "autocert.dns-propagation-check", "resolvers",
                        "autocert.dns-resolvers", "127.0.0.1:" + BIND.port()))
                .domains("*.halt.example.test,halt.example.test").email("admin@example.test").storage(dir.resolve("storage")).build();

        CertificateManager manager = CertificateManager.builder(settings).build();
        try {
            manager.start();
            long deadline = System.nanoTime() + Dns01Fixtures.TIMEOUT.toNanos();
            while (!Files.exists(presented) || Files.readAllLines(presented).size() < 2) {
                assertTrue(System.nanoTime() < deadline, "the second value was never presented");
                Thread.sleep(50);
            }
        } finally {
            manager.close(); // interrupts the order while the second present runs
        }
        // with the thread's interrupt flag still set, both clean-ups would fail before the program started
        assertEquals(Files.readAllLines(presented).stream().sorted().toList(),
                Files.exists(cleaned) ? Files.readAllLines(cleaned).stream().sorted().toList() : List.of(),
                "every value presented, the interrupted one too, is cleaned up");
    }

    /** Certbot's {@code --manual --preferred-challenges dns} with hooks: {@code autocert.manual-auth-hook} and no provider. */
    @Test
    void certbotManualHooksPublishTheRecordsWhenNoProviderIsSet() throws Exception {
        Path calls = dir.resolve("hook-calls.log");
        Path auth = dir.resolve("auth.sh");
        Path cleanup = dir.resolve("cleanup.sh");
        String nsupdate = "printf 'server 127.0.0.1 %d\\n%%s\\nsend\\n' \"$line\" | nsupdate -y '%s:%s:%s'\n"
                .formatted(BIND.port(), BIND.algorithm(), BIND.keyName(), BIND.secret());
        Files.writeString(auth, "#!/bin/sh\n"
                + "echo \"auth $CERTBOT_DOMAIN remaining=$CERTBOT_REMAINING_CHALLENGES all=$CERTBOT_ALL_DOMAINS token=${CERTBOT_TOKEN:-none}\" >> '" + calls + "'\n"
                + "line=\"update add _acme-challenge.$CERTBOT_DOMAIN. 60 IN TXT \\\"$CERTBOT_VALIDATION\\\"\"\n" + nsupdate
                + "echo published\n");
        Files.writeString(cleanup, "#!/bin/sh\n"
                + "echo \"cleanup $CERTBOT_DOMAIN output=$CERTBOT_AUTH_OUTPUT\" >> '" + calls + "'\n"
                + "line=\"update delete _acme-challenge.$CERTBOT_DOMAIN. TXT \\\"$CERTBOT_VALIDATION\\\"\"\n" + nsupdate);
        Files.setPosixFilePermissions(auth, PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(cleanup, PosixFilePermissions.fromString("rwx------"));
        AutocertSettings settings = AutocertSettings.builder().properties(PEBBLE.autocertProperties())
                .properties(Map.of("autocert.challenges", "dns-01", "autocert.manual-auth-hook", auth.toString(),
                        "autocert.manual-cleanup-hook", cleanup.toString(), "autocert.dns-propagation-check", "resolvers",
                        "autocert.dns-resolvers", "127.0.0.1:" + BIND.port(), "autocert.dns-polling-interval", "PT0.2S"))
                .domains("*.hooks.example.test,hooks.example.test").email("admin@example.test").storage(dir.resolve("storage2")).build();
        Dns01Fixtures.Events events = new Dns01Fixtures.Events();

        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            manager.start();
            CertifiedKey issued = events.await(CertificateEvent.Type.OBTAINED, "*.hooks.example.test", Dns01Fixtures.TIMEOUT).certificate();
            assertEquals(List.of("*.hooks.example.test", "hooks.example.test"), Dns01Fixtures.dnsNames(issued.certificate()));
        }
        List<String> lines = Files.readAllLines(calls);
        assertEquals(List.of(
                "auth hooks.example.test remaining=1 all=hooks.example.test,hooks.example.test token=none",
                "auth hooks.example.test remaining=0 all=hooks.example.test,hooks.example.test token=none",
                "cleanup hooks.example.test output=published",
                "cleanup hooks.example.test output=published"), lines);
        assertEquals(List.of(), BIND.txt("_acme-challenge.hooks.example.test"), "the cleanup hook removed both values");
    }
}
