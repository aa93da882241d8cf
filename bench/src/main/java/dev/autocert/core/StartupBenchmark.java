package dev.autocert.core;

import dev.autocert.testkit.StoredCertificates;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What start-up adds with {@code certificates} stored: {@link CertificateManager#load()} reading
 * storage, checking each version and publishing the set once, as a server's start calls it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class StartupBenchmark {

    @Param({"1", "1000", "10000"})
    public int certificates;

    private Path storage;
    private AutocertSettings settings;

    @Setup(Level.Trial)
    public void store() throws Exception {
        storage = Files.createTempDirectory("autocert-bench-");
        URI ca = URI.create("https://ca.example.test/dir");
        List<String> names = StoredCertificates.create().storeMany(storage, certificates, "example.test", ca);
        settings = AutocertSettings.builder().domains(String.join(";", names)).ca(ca.toString()).agreeTos(true)
                .storage(storage).build();
    }

    @TearDown(Level.Trial)
    public void delete() throws Exception {
        try (Stream<Path> files = Files.walk(storage)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        }
    }

    /** A new engine loading everything stored. */
    @Benchmark
    public int load() {
        try (CertificateManager manager = CertificateManager.builder(settings).build()) {
            manager.load();
            return manager.certificates().size();
        }
    }
}
