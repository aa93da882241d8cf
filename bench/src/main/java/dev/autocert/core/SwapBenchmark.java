package dev.autocert.core;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
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
 * What an installer pays per certificate swap before it hands the server a new key store:
 * building the in-memory PKCS#12 store and checking every key against its chain.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SwapBenchmark {

    @Param({"1", "10"})
    public int certificates;

    private final char[] password = "benchmark".toCharArray();
    private List<CertifiedKey> keys;

    @Setup
    public void makeCertificates() {
        keys = new ArrayList<>();
        for (int i = 0; i < certificates; i++) {
            String name = "site" + i + ".example.com";
            CertifiedKey placeholder = Placeholders.create(new ManagedCertificate(name, List.of(name, "www." + name)));
            keys.add(CertifiedKey.of(name, placeholder.privateKey(), placeholder.chain()));
        }
    }

    /** A validated key store for the whole set, as {@code KeyStores.build} makes for each swap. */
    @Benchmark
    public KeyStore buildKeyStore() throws GeneralSecurityException {
        return KeyStores.build(keys, password);
    }
}
