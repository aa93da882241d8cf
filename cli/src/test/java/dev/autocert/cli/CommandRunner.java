package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Runs {@code bin/autocert} from the distribution the build made, as an operator would: unzipped
 * once per JVM into the integration tests' work directory, run as its own process with arguments
 * and environment, its output and exit code returned.
 */
final class CommandRunner {

    private static Path home;

    private CommandRunner() {
    }

    /** What one run printed and how it ended. */
    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** {@return the unpacked distribution's directory, {@code autocert-cli-VERSION/}} */
    static synchronized Path home() throws IOException {
        if (home == null) {
            Path zip = Path.of(property("autocert.it.distribution"));
            assertTrue(Files.isRegularFile(zip), "the distribution built by the package phase: " + zip);
            Path target = Files.createDirectories(Path.of(property("autocert.it.workDirectory")).resolve("dist-" + System.nanoTime()));
            unzip(zip, target);
            try (var entries = Files.list(target)) {
                home = entries.findFirst().orElseThrow();
            }
            Path script = home.resolve("bin/autocert");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x")); // zip entries lose their mode here
        }
        return home;
    }

    /** Runs {@code bin/autocert ARGS} with no extra environment. */
    static Result run(String... args) throws Exception {
        return run(Map.of(), args);
    }

    /** Runs {@code bin/autocert ARGS} with {@code environment} added, for at most two minutes. */
    static Result run(Map<String, String> environment, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(home().resolve("bin/autocert").toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        builder.environment().putIfAbsent("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Path out = Files.createTempFile("autocert-out-", ".txt");
        Path err = Files.createTempFile("autocert-err-", ".txt");
        builder.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("autocert " + String.join(" ", args) + " did not finish in 2 minutes:\n"
                    + Files.readString(out) + Files.readString(err));
        }
        Result result = new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        return result;
    }

    private static void unzip(Path zip, Path target) throws IOException {
        try (InputStream in = Files.newInputStream(zip); ZipInputStream entries = new ZipInputStream(in)) {
            for (ZipEntry entry = entries.getNextEntry(); entry != null; entry = entries.getNextEntry()) {
                Path path = target.resolve(entry.getName()).normalize();
                if (!path.startsWith(target)) {
                    throw new IOException("Entry outside the target: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                } else {
                    Files.createDirectories(path.getParent());
                    Files.copy(entries, path);
                }
            }
        }
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            throw new IllegalStateException(name + " is not set; run the integration tests with mvn verify");
        }
        return value;
    }
}
