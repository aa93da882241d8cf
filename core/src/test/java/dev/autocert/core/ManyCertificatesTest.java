package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up with ten thousand stored certificates: every one served by SNI, published once. */
class ManyCertificatesTest {

    private static final int COUNT = 10_000;
    private static final URI CA = URI.create("https://ca.example.test/dir");
    private static final java.nio.file.attribute.FileAttribute<?> PRIVATE =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));

    @TempDir
    Path storage;

    @Test
    void aLineageWhoseFilesChangedSinceTheyWereStoredIsCheckedAgain() throws Exception {
        List<String> names = writeLineages(storage, 2);
        // another key written over the first lineage's: its digest no longer matches, so its key is checked
        Files.write(storage.resolve("archive/" + names.get(0) + "/privkey1.pem"), Pem.encodePrivateKey(KeyType.EC_P256.generate().getPrivate()));
        Lineages lineages = new Lineages(new FileStorage(storage));
        Lineages.Damaged damaged = (Lineages.Damaged) lineages.load(names.get(0), names.get(0));
        assertEquals(1, damaged.version());
        assertEquals(Lineages.Found.class, lineages.load(names.get(1), names.get(1)).getClass());
    }

    @Test
    void loadsTenThousandStoredCertificatesAndServesEachBySni() throws Exception {
        List<String> names = writeLineages(storage, COUNT);
        AutocertSettings settings = AutocertSettings.builder().domains(String.join(";", names)).ca(CA.toString())
                .agreeTos(true).storage(storage).build();
        Events events = new Events();
        try (CertificateManager manager = CertificateManager.builder(settings).listener(events).build()) {
            long start = System.nanoTime();
            manager.load();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            System.out.println("Loaded " + COUNT + " stored certificates in " + took.toMillis() + " ms");
            assertEquals(COUNT, manager.certificates().size());
            assertEquals(COUNT, events.of(CertificateEvent.Type.LOADED).size());
            assertFalse(manager.certificates().stream().anyMatch(CertifiedKey::placeholder));
            CertificateSet set = new CertificateSet(manager.certificates());
            for (String name : List.of(names.get(0), names.get(4321), names.get(COUNT - 1))) {
                assertEquals(List.of(name), set.select(name).get(0).names());
            }
        }
    }

    /**
     * Writes {@code count} one-version lineages as {@link Lineages} lays them out, signed by a
     * throwaway authority and sharing one key, quickly (no fsync): test data, not a store.
     */
    static List<String> writeLineages(Path storage, int count) throws Exception {
        KeyPair authority = KeyType.EC_P256.generate();
        KeyPair leaf = KeyType.EC_P256.generate();
        byte[] privkey = Pem.encodePrivateKey(leaf.getPrivate());
        var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(authority.getPrivate());
        Instant now = Instant.now();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String name = "n" + i + ".example.test";
            names.add(name);
            var builder = new JcaX509v3CertificateBuilder(new X500Name("CN=Test authority"), BigInteger.valueOf(i + 1L),
                    Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(89))), new X500Name("CN=" + name),
                    leaf.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, name)));
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(builder.build(signer));
            byte[] pem = Pem.encodeCertificates(List.of(certificate));
            Path archive = Files.createDirectories(storage.resolve("archive/" + name), PRIVATE);
            Files.write(archive.resolve("cert1.pem"), pem);
            Files.write(archive.resolve("chain1.pem"), new byte[0]);
            Files.write(archive.resolve("fullchain1.pem"), pem);
            Files.write(archive.resolve("privkey1.pem"), privkey);
            Path live = Files.createDirectories(storage.resolve("live/" + name), PRIVATE);
            Files.write(live.resolve("cert.pem"), pem);
            Files.write(live.resolve("privkey.pem"), privkey);
            Files.createDirectories(storage.resolve("renewal"), PRIVATE);
            Files.writeString(storage.resolve("renewal/" + name + ".properties"), "version=1\nca=" + CA + "\ndomains=" + name
                    + "\nkey-type=ec-p256\nstored=" + now + "\nari=false\ndigest=" + Lineages.digest(privkey, pem) + "\n",
                    StandardCharsets.UTF_8);
        }
        return names;
    }
}
