package dev.autocert.core;

import dev.autocert.testkit.StoredCertificates;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Heap an engine holds per managed certificate, beyond the certificate's own encoded bytes:
 * loads 1 and then N stored certificates and compares the heap used after a full GC.
 * {@code java -cp bench/target/benchmarks.jar dev.autocert.core.HeapPerCertificate 10000}
 */
public final class HeapPerCertificate {

    private HeapPerCertificate() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        URI ca = URI.create("https://ca.example.test/dir");
        Path one = Files.createTempDirectory("autocert-heap-");
        Path many = Files.createTempDirectory("autocert-heap-");
        StoredCertificates stored = StoredCertificates.create();
        List<String> oneName = stored.storeMany(one, 1, "example.test", ca);
        List<String> names = stored.storeMany(many, count, "example.test", ca);
        CertificateManager small = manager(oneName, one, ca);
        long base = usedAfterGc();
        CertificateManager large = manager(names, many, ca);
        long used = usedAfterGc();
        long encoded = 0;
        for (CertifiedKey key : large.certificates()) {
            for (var certificate : key.chain()) {
                encoded += certificate.getEncoded().length;
            }
        }
        double perCertificate = (double) (used - base) / (count - 1);
        double own = (double) encoded / count;
        System.out.printf("%d certificates: %.1f KB of heap each, of which %.1f KB are the certificates' own encoded bytes: "
                + "%.1f KB beyond them%n", count, perCertificate / 1024, own / 1024, (perCertificate - own) / 1024);
        small.close();
        large.close();
    }

    private static CertificateManager manager(List<String> names, Path storage, URI ca) {
        CertificateManager manager = CertificateManager.builder(AutocertSettings.builder().domains(String.join(";", names))
                .ca(ca.toString()).agreeTos(true).storage(storage).build()).build();
        manager.load();
        return manager;
    }

    private static long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
