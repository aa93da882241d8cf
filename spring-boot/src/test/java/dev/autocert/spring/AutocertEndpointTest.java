package dev.autocert.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.autocert.core.AutocertException;
import dev.autocert.core.CertificateEvent;
import dev.autocert.core.CertifiedKey;
import dev.autocert.core.ManagedCertificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class AutocertEndpointTest {

    private final CertificateStatuses statuses = new CertificateStatuses(List.of(
            new ManagedCertificate("example.test", List.of("example.test", "www.example.test")),
            new ManagedCertificate("api.example.test", List.of("api.example.test"))));
    private final AutocertEndpoint endpoint = new AutocertEndpoint(statuses, List::of, java.time.Clock.systemUTC());

    @Test
    void listsEveryManagedCertificateWithItsExpiryAndLastOrder() throws Exception {
        Instant now = Instant.now();
        CertifiedKey key = TestCertificates.issue(now, now.plus(Duration.ofDays(90)), "example.test", "www.example.test");
        statuses.onEvent(CertificateHealthTest.event(CertificateEvent.Type.OBTAINED, key, null));

        AutocertEndpoint.Certificates all = endpoint.certificates();

        assertThat(all.certificates()).extracting(AutocertEndpoint.CertificateDescriptor::name)
                .containsExactly("example.test", "api.example.test");
        AutocertEndpoint.CertificateDescriptor example = all.certificates().get(0);
        assertThat(example.domains()).containsExactly("example.test", "www.example.test");
        assertThat(example.served().notAfter()).isEqualTo(key.notAfter());
        assertThat(example.served().placeholder()).isFalse();
        assertThat(example.lastOrder().outcome()).isEqualTo("SUCCEEDED");
        assertThat(example.lastOrder().event()).isEqualTo("OBTAINED");
        AutocertEndpoint.CertificateDescriptor api = all.certificates().get(1);
        assertThat(api.served()).isNull();
        assertThat(api.lastOrder()).isNull();
    }

    @Test
    void keepsTheLastOrderOutcomeAcrossLaterEvents() throws Exception {
        Instant now = Instant.now();
        CertifiedKey key = TestCertificates.issue(now, now.plus(Duration.ofDays(90)), "api.example.test");
        statuses.onEvent(CertificateHealthTest.event(CertificateEvent.Type.LOADED, key, null));
        statuses.onEvent(CertificateHealthTest.event(CertificateEvent.Type.FAILED, key,
                new AutocertException("urn:ietf:params:acme:error:rateLimited")));

        AutocertEndpoint.CertificateDescriptor api = endpoint.certificate("api.example.test");

        assertThat(api.lastEvent()).isEqualTo("FAILED");
        assertThat(api.lastOrder().outcome()).isEqualTo("FAILED");
        assertThat(api.lastOrder().error()).contains("rateLimited");
        assertThat(api.lastOrder().failures()).isEqualTo(3);
        assertThat(api.lastOrder().nextAttempt()).isNotNull();
        assertThat(endpoint.certificate("unknown.example.test")).isNull();
    }
}
