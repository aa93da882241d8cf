package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution as an operator gets it: both archives unpacked with the system's own {@code
 * unzip} and {@code tar}, the command's help, usage errors and {@code --quiet}.
 */
class DistributionIT {

    private static final List<String> VERBS = List.of("certificates", "certonly", "renew", "revoke", "delete", "register",
            "update_account", "unregister", "show_account", "import-certbot");

    @TempDir
    Path work;

    @ParameterizedTest
    @ValueSource(strings = {"zip", "tar.gz"})
    void archiveHoldsAnExecutableCommandAndARunnableJar(String format) throws Exception {
        Path zip = Path.of(System.getProperty("autocert.it.distribution"));
        Path archive = zip.resolveSibling(zip.getFileName().toString().replaceFirst("\\.zip$", "." + format));
        assertTrue(Files.isRegularFile(archive), archive.toString());

        Output unpacked = format.equals("zip") ? exec(work, "unzip", "-q", archive.toString())
                : exec(work, "tar", "-xzf", archive.toString());
        assertEquals(0, unpacked.exitCode(), unpacked.text());

        Path home;
        try (var entries = Files.list(work)) {
            home = entries.findFirst().orElseThrow();
        }
        assertTrue(home.getFileName().toString().startsWith("autocert-cli-"), home.toString());
        Path command = home.resolve("bin/autocert");
        assertTrue(Files.isRegularFile(command) && Files.isExecutable(command), "bin/autocert is executable as unpacked");
        Path jar;
        try (var libs = Files.list(home.resolve("lib"))) {
            jar = libs.filter(p -> p.getFileName().toString().matches("autocert-cli-.*\\.jar")).findFirst().orElseThrow();
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

        Output byJar = exec(home, java, "-jar", jar.toString(), "--version");
        assertEquals(0, byJar.exitCode(), byJar.text());
        assertTrue(byJar.text().startsWith("autocert ") && byJar.text().contains("Java"), byJar.text());

        Output byScript = exec(home, command.toString(), "--version");
        assertEquals(0, byScript.exitCode(), byScript.text());
        assertEquals(byJar.text(), byScript.text());
    }

    @Test
    void helpListsEveryVerb() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--help");

        assertEquals(0, result.exitCode(), result.toString());
        for (String verb : VERBS) {
            assertTrue(result.out().lines().anyMatch(line -> line.trim().startsWith(verb + " ") || line.trim().equals(verb)),
                    verb + " in " + result);
        }
        assertTrue(result.out().contains("Exit codes:"), result.toString());
    }

    @Test
    void generatesABashCompletionScript() throws Exception {
        CommandRunner.Result result = CommandRunner.run("generate-completion");

        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().contains("complete -F"), result.toString());
        assertTrue(result.out().contains("certonly") && result.out().contains("--dns-provider"), "verbs and their options: " + result);
    }

    @Test
    void anUnknownOptionExitsTwoSuggestingTheOptionMeant() throws Exception {
        CommandRunner.Result option = CommandRunner.run("certonly", "--domian", "example.com");

        assertEquals(2, option.exitCode(), option.toString());
        assertTrue(option.err().contains("Unknown option") && option.err().contains("'--domian'"), option.toString());
        assertTrue(option.err().contains("--domains"), "suggests --domains: " + option);
        assertEquals("", option.out());

        CommandRunner.Result verb = CommandRunner.run("certonyl");
        assertEquals(2, verb.exitCode(), verb.toString());
        assertTrue(verb.err().contains("certonly"), "suggests certonly: " + verb);
    }

    @Test
    void anInvalidSettingExitsTwoNamingTheSetting() throws Exception {
        CommandRunner.Result result = CommandRunner.run("certificates", "--storage", work.toString(), "--key-type", "ec256");

        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.err().contains("autocert.key-type: expected one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 "
                + "but was 'ec256'"), result.toString());
        assertFalse(result.err().contains("Exception") || result.err().contains("\tat "), "no stack trace: " + result);
    }

    @Test
    void quietPrintsNothingOnSuccess() throws Exception {
        CommandRunner.Result result = CommandRunner.run("certificates", "--quiet", "--storage", work.resolve("empty").toString());

        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("", result.out());
        assertEquals("", result.err());
    }

    private record Output(int exitCode, String text) {
    }

    private static Output exec(Path directory, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
        builder.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process process = builder.start();
        String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        return new Output(process.exitValue(), text);
    }
}
