package dev.autocert.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What a swap costs the engine before the next handshake sees the new certificate: a new
 * immutable {@link CertificateSet} over everything served, then one reference written. The
 * handshake side of a swap is nothing: the key manager reads the reference.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CertificateSetBenchmark {

    @Param({"1", "10000"})
    public int certificates;

    private List<CertifiedKey> keys;

    @Setup
    public void loadCertificates() throws Exception {
        java.nio.file.Path storage = java.nio.file.Files.createTempDirectory("autocert-bench-");
        java.net.URI ca = java.net.URI.create("https://ca.example.test/dir");
        List<String> names = dev.autocert.testkit.StoredCertificates.create().storeMany(storage, certificates, "example.test", ca);
        try (CertificateManager manager = CertificateManager.builder(AutocertSettings.builder().domains(String.join(";", names))
                .ca(ca.toString()).agreeTos(true).storage(storage).build()).build()) {
            manager.load();
            keys = new ArrayList<>(manager.certificates());
        }
    }

    /** The set the engine builds and publishes at each swap. */
    @Benchmark
    public CertificateSet buildSet() {
        return new CertificateSet(keys);
    }
}
