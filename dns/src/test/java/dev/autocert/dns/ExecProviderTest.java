package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.ChallengeData;
import dev.autocert.core.ChallengeType;
import dev.autocert.core.DnsProvider.TxtRecord;
import dev.autocert.core.HookRunner;
import dev.autocert.core.InvalidSettingException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs real shell scripts, written by each test, that record how they were called. */
class ExecProviderTest {

    private static final String VALUE_A = "MsijOYZxqyjGnFGwhjrhfg-Xgbl5r68WPda0J9EgqqI";
    private static final String VALUE_B = "KxAyJ3NwUmg9ZQuMgPMq1nStaYSaP9tYQs5YsEksTqy";

    @TempDir
    Path dir;

    private Path script(String name, String body) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
        return file;
    }

    private List<String> lines(String name) throws IOException {
        Path file = dir.resolve(name);
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    private static ExecProvider provider(Map<String, String> settings) {
        return new ExecProvider.Factory().createExec(DnsCredentials.of("exec", settings), System.getenv());
    }

    private static TxtRecord record(String domain, String value) {
        return new TxtRecord("_acme-challenge." + domain + ".", value, 120);
    }

    @Test
    void legoContractPassesActionFqdnWithFinalDotAndValue() throws Exception {
        Path program = script("update-dns.sh", "echo \"$# $*\" >> " + dir.resolve("calls"));
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString()));

        exec.present(record("foo.example.com", VALUE_A));
        exec.cleanUp(record("foo.example.com", VALUE_A));

        assertEquals(List.of("3 present _acme-challenge.foo.example.com. " + VALUE_A,
                "3 cleanup _acme-challenge.foo.example.com. " + VALUE_A), lines("calls"));
    }

    @Test
    void certbotIniKeyNamesTheProgramToo() throws Exception {
        Path program = script("update-dns.sh", "echo \"$1\" >> " + dir.resolve("calls"));
        provider(Map.of("dns_exec_path", program.toString())).present(record("example.com", VALUE_A));
        assertEquals(List.of("present"), lines("calls"));
    }

    @Test
    void rawModePassesDomainTokenAndKeyAuthorizationAfterDoubleDash() throws Exception {
        Path program = script("raw.sh", "for a in \"$@\"; do echo \"$a\" >> " + dir.resolve("args") + "; done");
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString(), "EXEC_MODE", "RAW"));
        ChallengeData challenge = new ChallengeData(ChallengeType.DNS_01, "my.example.org", "-token", "-token.thumbprint");

        exec.present(record("my.example.org", challenge.dnsRecordValue()), challenge);

        assertEquals(List.of("present", "--", "my.example.org", "-token", "-token.thumbprint"), lines("args"));
    }

    @Test
    void rawModeWithoutTheChallengeSaysWhatIsMissing() throws Exception {
        Path program = script("raw.sh", "exit 0");
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString(), "EXEC_MODE", "raw"));
        AutocertException e = assertThrows(AutocertException.class, () -> exec.present(record("example.com", VALUE_A)));
        assertTrue(e.getMessage().contains("EXEC_MODE=RAW"), e.getMessage());
    }

    @Test
    void twoValuesAtOneNameCoexistAndEachCleanupRemovesItsOwn() throws Exception {
        // a script that keeps a zone of TXT values in a file, as users' scripts keep theirs
        Path zone = dir.resolve("zone");
        Path program = script("zone.sh", """
                case "$1" in
                  present) echo "$2 $3" >> %1$s ;;
                  cleanup) grep -v -x -F "$2 $3" %1$s > %1$s.new; mv %1$s.new %1$s ;;
                esac""".formatted(zone));
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString()));

        exec.present(record("example.com", VALUE_A)); // *.example.com
        exec.present(record("example.com", VALUE_B)); // example.com
        assertEquals(List.of("_acme-challenge.example.com. " + VALUE_A, "_acme-challenge.example.com. " + VALUE_B), lines("zone"));

        exec.cleanUp(record("example.com", VALUE_A));
        assertEquals(List.of("_acme-challenge.example.com. " + VALUE_B), lines("zone"));
        exec.cleanUp(record("example.com", VALUE_B));
        assertEquals(List.of(), lines("zone"));
    }

    @Test
    void presentingTwiceOrCleaningUpTwiceRunsTheProgramOnce() throws Exception {
        Path program = script("count.sh", "echo \"$1\" >> " + dir.resolve("calls"));
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString()));

        exec.present(record("example.com", VALUE_A));
        exec.present(record("example.com", VALUE_A));
        exec.cleanUp(record("example.com", VALUE_A));
        exec.cleanUp(record("example.com", VALUE_A));

        assertEquals(List.of("present", "cleanup"), lines("calls"));
    }

    @Test
    void runsOneProgramAtATimeAsLegoAndCertbotDo() throws Exception {
        // fails when two runs overlap: mkdir is atomic
        Path program = script("exclusive.sh", "mkdir " + dir.resolve("lock") + " || exit 9\nsleep 0.2\nrmdir " + dir.resolve("lock"));
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString()));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (String domain : List.of("a.example.com", "b.example.com", "c.example.com", "d.example.com")) {
                runs.add(pool.submit(() -> {
                    provider(Map.of("EXEC_PATH", program.toString())).present(record(domain, VALUE_A));
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(); // throws when a run failed with exit 9
            }
        } finally {
            pool.shutdownNow();
        }
        exec.present(record("e.example.com", VALUE_A));
    }

    @Test
    void certbotHooksGetCertbotsEnvironmentAndTheCleanupGetsTheAuthOutput() throws Exception {
        Path auth = script("auth.sh", """
                env | grep '^CERTBOT_' | sort > %s
                echo "  record-id-42  "
                """.formatted(dir.resolve("auth-env")));
        Path cleanup = script("cleanup.sh", "env | grep '^CERTBOT_' | sort > " + dir.resolve("cleanup-env"));
        ExecProvider exec = provider(Map.of("dns_exec_auth_hook", auth.toString(), "dns_exec_cleanup_hook", cleanup + " --quiet"));
        assertEquals(ExecProvider.Contract.CERTBOT, exec.contract());

        exec.present(record("www.example.com", VALUE_A));
        exec.cleanUp(record("www.example.com", VALUE_A));

        List<String> authEnv = lines("auth-env");
        assertEquals(List.of("CERTBOT_ALL_DOMAINS=www.example.com", "CERTBOT_DOMAIN=www.example.com",
                "CERTBOT_REMAINING_CHALLENGES=0", "CERTBOT_VALIDATION=" + VALUE_A), authEnv);
        assertEquals(List.of("CERTBOT_ALL_DOMAINS=www.example.com", "CERTBOT_AUTH_OUTPUT=record-id-42", "CERTBOT_DOMAIN=www.example.com",
                "CERTBOT_REMAINING_CHALLENGES=0", "CERTBOT_VALIDATION=" + VALUE_A), lines("cleanup-env"));
    }

    @Test
    void certbotHookIsAShellCommandAsCertbotRunsIt() throws Exception {
        Path out = dir.resolve("out");
        ExecProvider exec = provider(Map.of("EXEC_AUTH_HOOK", "echo \"$CERTBOT_DOMAIN\" > " + out + " && echo done >> " + out));
        exec.present(record("example.com", VALUE_A));
        exec.cleanUp(record("example.com", VALUE_A)); // no cleanup hook: nothing to run
        assertEquals(List.of("example.com", "done"), Files.readAllLines(out));
    }

    @Test
    void aFailingProgramGivesItsExitCodeAndLastLines() throws Exception {
        StringBuilder body = new StringBuilder();
        for (int i = 1; i <= 15; i++) {
            body.append("echo line").append(i).append('\n');
        }
        body.append("echo 'zone example.com is locked' >&2\nexit 3");
        Path program = script("fail.sh", body.toString());
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString()));

        AutocertException e = assertThrows(AutocertException.class, () -> exec.present(record("example.com", VALUE_A)));

        String message = e.getMessage();
        assertTrue(message.startsWith("DNS-01 through exec: "), message);
        assertTrue(message.contains("exit code 3"), message);
        assertTrue(message.contains("zone example.com is locked"), message);
        assertTrue(message.contains("line15"), message);
        assertFalse(message.contains("line2 "), message);
        // a failed present is tried again
        Files.writeString(program, "#!/bin/sh\nexit 0\n");
        exec.present(record("example.com", VALUE_A));
    }

    @Test
    void aFailingRawProgramDoesNotShowTheKeyAuthorization() throws Exception {
        Path program = script("fail.sh", "echo nope; exit 1");
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString(), "EXEC_MODE", "RAW"));
        ChallengeData challenge = new ChallengeData(ChallengeType.DNS_01, "example.com", "tok", "tok.secret-thumbprint");
        AutocertException e = assertThrows(AutocertException.class,
                () -> exec.present(record("example.com", challenge.dnsRecordValue()), challenge));
        assertFalse(e.getMessage().contains("secret-thumbprint"), e.getMessage());
        assertTrue(e.getMessage().contains("exit code 1"), e.getMessage());
    }

    @Test
    void aFailingProgramsOutputIsQuotedWithoutTheSecretsItPrinted() throws Exception {
        // as a script run with set -x, or one that echoes what it was given, would
        Path program = script("leaky.sh", """
                echo "args: $*"
                echo "Authorization: Bearer cf-token-0123456789abcdef"
                echo 'zone example.com is locked' >&2
                exit 1""");
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString(), "EXEC_MODE", "RAW",
                "CLOUDFLARE_DNS_API_TOKEN", "cf-token-0123456789abcdef"));
        ChallengeData challenge = new ChallengeData(ChallengeType.DNS_01, "example.com", "tok-Abc123_xyz", "tok-Abc123_xyz.thumbprint-Q1w2e3");

        AutocertException e = assertThrows(AutocertException.class,
                () -> exec.present(record("example.com", challenge.dnsRecordValue()), challenge));

        String message = e.getMessage();
        assertFalse(message.contains("tok-Abc123_xyz"), "the token: " + message);
        assertFalse(message.contains("thumbprint-Q1w2e3"), "the key authorization: " + message);
        assertFalse(message.contains("cf-token-0123456789abcdef"), "the credentials file's value: " + message);
        assertTrue(message.contains("args: present -- example.com [redacted] [redacted]"), message);
        assertTrue(message.contains("Authorization: Bearer [redacted]"), message);
        assertTrue(message.contains("zone example.com is locked"), "what is no secret is kept: " + message);
    }

    @Test
    void aFailingHookDoesNotQuoteCertbotsValuesOrSecretLookingVariables() throws Exception {
        Path auth = script("auth.sh", "echo record-id-7f3e2a91");
        Path cleanup = script("cleanup.sh", """
                echo "validation=$CERTBOT_VALIDATION"
                echo "deleting $CERTBOT_AUTH_OUTPUT for $CERTBOT_DOMAIN"
                exit 2""");
        ExecProvider exec = provider(Map.of("dns_exec_auth_hook", auth.toString(), "dns_exec_cleanup_hook", cleanup.toString()));
        exec.present(record("www.example.com", VALUE_A));

        AutocertException e = assertThrows(AutocertException.class, () -> exec.cleanUp(record("www.example.com", VALUE_A)));
        assertTrue(e.getMessage().contains("validation=[redacted] | deleting [redacted] for www.example.com"), e.getMessage());

        // and a program's own environment, as HookRunner is given it
        HookRunner runner = new HookRunner("DNS-01 through exec", "EXEC_TIMEOUT");
        AutocertException hook = assertThrows(AutocertException.class, () -> runner.run("the hook", List.of("/bin/sh", "-c",
                "echo \"validation=$CERTBOT_VALIDATION key=$MY_DNS_API_KEY user=$MY_DNS_USER\"; exit 1"),
                Map.of("CERTBOT_VALIDATION", VALUE_A, "MY_DNS_API_KEY", "s3cr3t-api-key", "MY_DNS_USER", "dns-admin"), Duration.ofSeconds(30)));
        assertTrue(hook.getMessage().contains("validation=[redacted] key=[redacted] user=dns-admin"), hook.getMessage());
    }

    @Test
    void aHangingHookIsKilledAfterTheTimeout() throws Exception {
        Path pid = dir.resolve("pid");
        Path program = script("hang.sh", "echo started\nsleep 60 &\necho $! > " + pid + "\nwait");
        ExecProvider exec = provider(Map.of("EXEC_PATH", program.toString(), "EXEC_TIMEOUT", "3"));

        long start = System.nanoTime();
        AutocertException e = assertThrows(AutocertException.class, () -> exec.present(record("example.com", VALUE_A)));
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;

        assertTrue(seconds < 15, "took " + seconds + " s");
        assertTrue(e.getMessage().contains("did not finish within 3 s and was killed"), e.getMessage());
        assertTrue(e.getMessage().contains("started"), e.getMessage());
        assertTrue(e.getMessage().contains("EXEC_TIMEOUT"), e.getMessage());
        long sleeper = Long.parseLong(Files.readString(pid).strip());
        for (int i = 0; i < 50 && ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false); i++) {
            Thread.sleep(100);
        }
        assertFalse(ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false), "the hook's child was left running");
    }

    @Test
    void aMissingProgramIsRefusedWithItsPath() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> provider(Map.of("EXEC_PATH", dir.resolve("nope.sh").toString())));
        assertEquals("autocert.dns-credentials", e.setting());
        assertTrue(e.getMessage().contains(dir.resolve("nope.sh") + "' does not exist"), e.getMessage());
    }

    @Test
    void aProgramThatIsNotExecutableIsRefusedWithTheChmodThatFixesIt() throws Exception {
        Path program = script("update-dns.sh", "exit 0");
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rw-------"));
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> provider(Map.of("EXEC_PATH", program.toString())));
        assertTrue(e.getMessage().contains("chmod +x " + program), e.getMessage());

        InvalidSettingException hook = assertThrows(InvalidSettingException.class,
                () -> provider(Map.of("dns_exec_auth_hook", program + " --auth")));
        assertTrue(hook.getMessage().contains("dns_exec_auth_hook"), hook.getMessage());
        assertTrue(hook.getMessage().contains("chmod +x " + program), hook.getMessage());
    }

    @Test
    void missingSettingsNameTheIniKeyAndTheLegoVariable() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> provider(Map.of()));
        assertTrue(e.getMessage().contains("dns_exec_path"), e.getMessage());
        assertTrue(e.getMessage().contains("EXEC_PATH"), e.getMessage());

        InvalidSettingException certbot = assertThrows(InvalidSettingException.class,
                () -> provider(Map.of("dns_exec_contract", "certbot")));
        assertTrue(certbot.getMessage().contains("dns_exec_auth_hook"), certbot.getMessage());
    }

    @Test
    void bothContractsAtOnceMustBeChosenBetween() throws Exception {
        Path program = script("p.sh", "exit 0");
        Map<String, String> both = new HashMap<>(Map.of("EXEC_PATH", program.toString(), "dns_exec_auth_hook", program.toString()));
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> provider(both));
        assertTrue(e.getMessage().contains("dns_exec_contract"), e.getMessage());

        both.put("dns_exec_contract", "lego");
        assertEquals(ExecProvider.Contract.LEGO, provider(both).contract());
    }

    @Test
    void aBareProgramNameIsLookedUpOnThePath() {
        assertEquals(ExecProvider.Contract.LEGO, provider(Map.of("EXEC_PATH", "true")).contract());
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> provider(Map.of("EXEC_PATH", "no-such-program-here")));
        assertTrue(e.getMessage().contains("not found on the PATH"), e.getMessage());
    }

    @Test
    void isRegisteredAsExec() {
        assertTrue(DnsSolverFactory.find("exec").isPresent());
    }
}
