package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.autocert.testkit.PebbleServer;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.naming.ldap.LdapName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code autocert.preferred-chain} picks among the CA's alternate chains by issuer common name. */
class PebbleAlternateChainsTest {

    @RegisterExtension
    static final PebbleServer PEBBLE = PebbleServer.builder().alternateRoots(1).build();

    @TempDir
    Path storage;

    @Test
    void usesTheDefaultChainUnlessAnotherIsPreferred() throws Exception {
        List<X509Certificate> roots = PEBBLE.issuingRoots();
        assertEquals(2, roots.size());
        X509Certificate alternate = roots.get(1);
        String alternateName = commonName(alternate);

        CertifiedKey plain = obtain("default.example.test", null);
        Chains.verify(plain.chain(), roots.get(0));
        assertNotEquals(alternateName, topIssuer(plain));

        CertifiedKey preferred = obtain("preferred.example.test", alternateName);
        Chains.verify(preferred.chain(), alternate);
        assertEquals(alternateName, topIssuer(preferred));
    }

    private CertifiedKey obtain(String name, String preferredChain) throws Exception {
        Events events = new Events();
        AutocertSettings.Builder settings = PebbleFixtures.settings(PEBBLE, storage.resolve(name), name);
        if (preferredChain != null) {
            settings.preferredChain(preferredChain);
        }
        try (ChallengeResponder responder = new ChallengeResponder(PEBBLE.httpPort());
                CertificateManager manager = responder.serve(CertificateManager.builder(settings.build()).listener(events).build())) {
            manager.start();
            return events.await(CertificateEvent.Type.OBTAINED, name, Duration.ofSeconds(60)).certificate();
        }
    }

    private static String topIssuer(CertifiedKey key) throws Exception {
        X509Certificate top = key.chain().get(key.chain().size() - 1);
        return new LdapName(top.getIssuerX500Principal().getName()).getRdns().stream()
                .filter(r -> r.getType().equalsIgnoreCase("CN")).map(r -> r.getValue().toString()).findFirst().orElseThrow();
    }

    private static String commonName(X509Certificate certificate) throws Exception {
        return new LdapName(certificate.getSubjectX500Principal().getName()).getRdns().stream()
                .filter(r -> r.getType().equalsIgnoreCase("CN")).map(r -> r.getValue().toString()).findFirst().orElseThrow();
    }
}
