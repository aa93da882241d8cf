package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutocertSettingsTest {

    @TempDir
    Path dir;

    private static InvalidSettingException invalid(Map<String, String> properties) {
        return assertThrows(InvalidSettingException.class, () -> AutocertSettings.fromProperties(properties));
    }

    private static Map<String, String> with(String... keysAndValues) {
        var map = new java.util.LinkedHashMap<String, String>();
        map.put("autocert.domains", "example.com");
        map.put("autocert.agree-tos", "true");
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    @Test
    void readsEverySettingWithDefaults() {
        AutocertSettings settings = AutocertSettings.fromProperties(Map.of(
                "autocert.domains", "Example.COM, www.example.com ; api.example.com",
                "autocert.agree-tos", "true",
                "unrelated.key", "ignored"));
        assertEquals(List.of(new ManagedCertificate("example.com", List.of("example.com", "www.example.com")),
                new ManagedCertificate("api.example.com", List.of("api.example.com"))), settings.certificates());
        assertEquals(URI.create("https://acme-v02.api.letsencrypt.org/directory"), settings.ca());
        assertEquals(KeyType.EC_P256, settings.keyType());
        assertEquals(List.of(ChallengeType.HTTP_01), settings.challenges());
        assertEquals(80, settings.httpPort());
        assertTrue(settings.redirectPort().isEmpty(), "the HTTPS connector's own port unless set");
        assertEquals(Duration.ZERO, settings.startupWait());
        assertTrue(settings.email().isEmpty());
    }

    @Test
    void readsTheRedirectPort() {
        AutocertSettings settings = AutocertSettings.fromProperties(Map.of("autocert.domains", "example.com",
                "autocert.agree-tos", "true", "autocert.redirect-port", "443"));
        assertEquals(java.util.OptionalInt.of(443), settings.redirectPort());
        assertEquals(settings.redirectPort(), settings.toBuilder().build().redirectPort());
        assertTrue(settings.toString().contains("redirectPort=443"), settings.toString());
    }

    @Test
    void turnsInternationalNamesIntoPunycode() {
        AutocertSettings settings = AutocertSettings.builder().domains("bücher.example").agreeTos(true).build();
        assertEquals("xn--bcher-kva.example", settings.certificates().get(0).name());
    }

    @Test
    void requiresDomains() {
        var e = assertThrows(InvalidSettingException.class, () -> AutocertSettings.builder().agreeTos(true).build());
        assertEquals("autocert.domains", e.setting());
        assertTrue(e.getMessage().contains("autocert.domains=example.com"), e.getMessage());
    }

    @Test
    void namesTheClosestKnownKeyForATypo() {
        var e = invalid(with("autocert.agree-to", "true"));
        assertEquals("autocert.agree-to", e.setting());
        assertTrue(e.getMessage().contains("did you mean autocert.agree-tos?"), e.getMessage());
        var far = invalid(with("autocert.frobnicate", "1"));
        assertTrue(far.getMessage().contains("known settings: domains"), far.getMessage());
    }

    @Test
    void refusesInvalidDomainNames() {
        for (String bad : List.of("exa_mple.com", "-a.example.com", "localhost", "a..example.com", "999.0.0.1",
                "1.2.3.4.5", "2001:db8::g", "www.*.example.com", "a".repeat(64) + ".com")) {
            var e = invalid(with("autocert.domains", bad));
            assertEquals("autocert.domains", e.setting(), bad);
            assertTrue(e.getMessage().contains(bad.length() > 40 ? bad.substring(0, 10) : bad), e.getMessage());
        }
    }

    @Test
    void acceptsIpAddressesInTheirCanonicalForm() {
        AutocertSettings settings = AutocertSettings.fromProperties(with("autocert.domains",
                "203.0.113.7;2001:DB8:0:0:0:0:0:7,[::1]"));
        assertEquals(List.of("203.0.113.7"), settings.certificates().get(0).domains());
        assertEquals(List.of("2001:db8::7", "::1"), settings.certificates().get(1).domains());
        assertEquals("2001_db8__7", settings.certificates().get(1).storageName());
        var e = invalid(with("autocert.domains", "127.0.0.1,127.000.000.001"));
        assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
    }

    @Test
    void takesSeveralCasInOrderAndComparesThemHoweverSpelled() {
        AutocertSettings settings = AutocertSettings.fromProperties(with("autocert.domains", "example.com",
                "autocert.agree-tos", "true", "autocert.ca", "letsencrypt, https://ca.example.net:443/dir/",
                "autocert.eab-kid", "kid", "autocert.eab-hmac-key", "c2VjcmV0"));
        assertEquals(List.of(java.net.URI.create("https://acme-v02.api.letsencrypt.org/directory"),
                java.net.URI.create("https://ca.example.net:443/dir/")), settings.cas());
        assertEquals(settings.cas().get(0), settings.ca());
        assertTrue(AutocertSettings.sameCa(java.net.URI.create("https://CA.example.net/dir"), settings.cas().get(1)));
        var twice = invalid(with("autocert.domains", "example.com", "autocert.ca",
                "https://ca.example.net/dir,https://ca.example.net:443/dir/"));
        assertEquals("autocert.ca", twice.setting());
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
        var zerossl = invalid(with("autocert.domains", "example.com", "autocert.agree-tos", "true",
                "autocert.ca", "letsencrypt,zerossl"));
        assertEquals("autocert.eab-kid", zerossl.setting(), "a fallback CA that needs EAB needs its credentials too");
    }

    @Test
    void aRequiredProfileNeedsAProfile() {
        var e = invalid(with("autocert.domains", "example.com", "autocert.profile-required", "true"));
        assertEquals("autocert.profile-required", e.setting());
        assertTrue(e.getMessage().contains("autocert.profile=shortlived"), e.getMessage());
    }

    @Test
    void namesTheClosestKnownKeyForTransposedLetters() {
        var e = invalid(with("autocert.domian", "example.com"));
        assertTrue(e.getMessage().contains("did you mean autocert.domains?"), e.getMessage());
    }

    @Test
    void refusesDuplicateNamesAcrossCertificates() {
        var e = invalid(with("autocert.domains", "a.example.com;b.example.com,A.example.com"));
        assertTrue(e.getMessage().contains("'a.example.com' is listed twice"), e.getMessage());
    }

    @Test
    void refusesWildcardsUnlessDns01IsAllowed() {
        var e = invalid(with("autocert.domains", "*.example.com"));
        assertTrue(e.getMessage().contains("only dns-01 can validate"), e.getMessage());
        AutocertSettings ok = AutocertSettings.fromProperties(with("autocert.domains", "*.example.com",
                "autocert.challenges", "dns-01"));
        assertEquals("*.example.com", ok.certificates().get(0).name());
        assertEquals("_.example.com", ok.certificates().get(0).storageName());
    }

    @Test
    void requiresAgreementToTermsOfKnownCas() {
        var e = assertThrows(InvalidSettingException.class,
                () -> AutocertSettings.builder().domains("example.com").ca("letsencrypt-staging").build());
        assertEquals("autocert.agree-tos", e.setting());
        assertTrue(e.getMessage().contains("letsencrypt-staging requires accepting its terms"), e.getMessage());
    }

    @Test
    void refusesUnknownCaNamesAndBadUrls() {
        var name = invalid(with("autocert.ca", "letsencrpyt"));
        assertEquals("autocert.ca", name.setting());
        assertTrue(name.getMessage().contains("expected one of letsencrypt, letsencrypt-staging, zerossl, google"), name.getMessage());
        var http = invalid(with("autocert.ca", "http://ca.example.com/dir"));
        assertTrue(http.getMessage().contains("https://"), http.getMessage());
        var malformed = invalid(with("autocert.ca", "https://exa mple.com/dir"));
        assertTrue(malformed.getMessage().contains("not a valid URL"), malformed.getMessage());
    }

    @Test
    void requiresEabForCasThatNeedIt() {
        var e = invalid(with("autocert.ca", "zerossl"));
        assertEquals("autocert.eab-kid", e.setting());
        assertTrue(e.getMessage().contains("zerossl requires external account binding"), e.getMessage());
    }

    @Test
    void refusesAnEabKeyThatIsNotBase64UrlWithoutShowingIt() {
        String secret = "not+base64/url+secret";
        var e = invalid(with("autocert.eab-kid", "kid-1", "autocert.eab-hmac-key", secret));
        assertEquals("autocert.eab-hmac-key", e.setting());
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        var half = invalid(with("autocert.eab-kid", "kid-1"));
        assertEquals("autocert.eab-hmac-key", half.setting());
        AutocertSettings ok = AutocertSettings.fromProperties(with("autocert.eab-kid", "kid-1",
                "autocert.eab-hmac-key", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"));
        assertFalse(ok.toString().contains("zWNDZM6e"), ok.toString());
    }

    @Test
    void refusesAnUnreadableOrNonPemTrustFile() throws IOException {
        var missing = invalid(with("autocert.ca-trust", dir.resolve("nope.pem").toString()));
        assertEquals("autocert.ca-trust", missing.setting());
        assertTrue(missing.getMessage().contains("cannot read"), missing.getMessage());
        Path notPem = Files.writeString(dir.resolve("bad.pem"), "hello");
        var bad = invalid(with("autocert.ca-trust", notPem.toString()));
        assertTrue(bad.getMessage().contains("not a PEM certificate file") || bad.getMessage().contains("holds no certificate"), bad.getMessage());
    }

    @Test
    void refusesUnknownKeyTypesChallengesPortsAndBooleans() {
        var keyType = invalid(with("autocert.key-type", "ec256"));
        assertEquals("autocert.key-type: expected one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 but was 'ec256'",
                keyType.getMessage());
        var challenge = invalid(with("autocert.challenges", "http-01,dns01"));
        assertTrue(challenge.getMessage().contains("'dns01'"), challenge.getMessage());
        assertTrue(challenge.getMessage().contains("tls-alpn-01"), challenge.getMessage());
        var port = invalid(with("autocert.http-port", "80000"));
        assertEquals("autocert.http-port", port.setting());
        var redirect = invalid(with("autocert.redirect-port", "https"));
        assertEquals("autocert.redirect-port", redirect.setting());
        assertTrue(redirect.getMessage().contains("'https'"), redirect.getMessage());
        assertEquals("autocert.redirect-port", invalid(with("autocert.redirect-port", "70000")).setting());
        var bool = invalid(with("autocert.agree-tos", "yes"));
        assertTrue(bool.getMessage().contains("expected true or false but was 'yes'"), bool.getMessage());
        var wait = invalid(with("autocert.startup-wait", "soon"));
        assertTrue(wait.getMessage().contains("90s"), wait.getMessage());
        var email = invalid(with("autocert.email", "admin"));
        assertTrue(email.getMessage().contains("'admin'"), email.getMessage());
    }

    @Test
    void acceptsTlsAlpn01() {
        var settings = AutocertSettings.fromProperties(with("autocert.challenges", "tls-alpn-01, http-01"));
        assertEquals(List.of(ChallengeType.TLS_ALPN_01, ChallengeType.HTTP_01), settings.challenges());
    }

    @Test
    void parsesDurationsInShortAndIsoForm() {
        assertEquals(Duration.ofSeconds(90), AutocertSettings.fromProperties(with("autocert.startup-wait", "90s")).startupWait());
        assertEquals(Duration.ofMinutes(2), AutocertSettings.fromProperties(with("autocert.startup-wait", "PT2M")).startupWait());
    }

    @Test
    void placeholderAlertIsAnHourUnlessSetAndZeroTurnsItOff() {
        assertEquals(Duration.ofHours(1), AutocertSettings.fromProperties(with()).placeholderAlert());
        assertEquals(Duration.ofHours(1), AutocertSettings.fromProperties(with("autocert.placeholder-alert", " ")).placeholderAlert());
        assertEquals(Duration.ofMinutes(30), AutocertSettings.fromProperties(with("autocert.placeholder-alert", "30m")).placeholderAlert());
        assertEquals(Duration.ofHours(6), AutocertSettings.fromProperties(with("autocert.placeholder-alert", "PT6H")).placeholderAlert());
        assertEquals(Duration.ZERO, AutocertSettings.fromProperties(with("autocert.placeholder-alert", "0")).placeholderAlert());
        AutocertSettings set = AutocertSettings.fromProperties(with("autocert.placeholder-alert", "2h"));
        assertEquals(Duration.ofHours(2), set.toBuilder().build().placeholderAlert(), "kept by toBuilder");
        assertTrue(set.toString().contains("placeholderAlert=PT2H"), set.toString());
        assertTrue(AutocertSettings.NAMES.contains("placeholder-alert"));

        for (String bad : List.of("soon", "-5m", "1d", "PT-1H")) {
            var e = invalid(with("autocert.placeholder-alert", bad));
            assertEquals("autocert.placeholder-alert: expected a duration such as 30m, 1h or 6h, or 0 to turn the alert off, but was '"
                    + bad + "'", e.getMessage());
            assertEquals("autocert.placeholder-alert", e.setting());
        }
        var negative = assertThrows(InvalidSettingException.class,
                () -> AutocertSettings.builder().domains("example.com").agreeTos(true).placeholderAlert(Duration.ofMinutes(-1)).build());
        assertEquals("autocert.placeholder-alert", negative.setting());
        assertTrue(negative.getMessage().contains("0 to turn the alert off"), negative.getMessage());
    }

    @Test
    void namesTheModuleAStoreURLNeedsAndHidesItsPassword() {
        AutocertSettings settings = AutocertSettings.fromProperties(with("autocert.domains", "a.example.com",
                "autocert.storage", "jdbc:postgresql://db.example/autocert?user=a&password=s3cret", "autocert.storage-password", "hunter2"));
        assertEquals(Optional.empty(), settings.storage(), "a URL is no directory");
        assertFalse(settings.toString().contains("s3cret") || settings.toString().contains("hunter2"), settings.toString());
        var e = assertThrows(InvalidSettingException.class, () -> Storage.of(settings, Path.of("unused")));
        assertEquals("autocert.storage", e.setting());
        assertTrue(e.getMessage().contains("autocert-store-jdbc") && e.getMessage().contains("org.postgresql:postgresql"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
        var vault = assertThrows(InvalidSettingException.class, () -> Storage.of(AutocertSettings.fromProperties(with(
                "autocert.domains", "a.example.com", "autocert.storage", "vault:https://vault.example:8200/secret/autocert")), Path.of("x")));
        assertTrue(vault.getMessage().contains("autocert-store-vault"), vault.getMessage());
        var other = invalid(with("autocert.storage", "jdbc:mysql://db.example/autocert"));
        assertTrue(other.getMessage().contains("PostgreSQL"), other.getMessage());
        assertEquals(Optional.of(Path.of("/var/lib/autocert")), AutocertSettings.fromProperties(with("autocert.domains", "a.example.com",
                "autocert.storage", "file:///var/lib/autocert")).storage());
    }

    @Test
    void roundTripsThroughItsBuilder() {
        AutocertSettings settings = AutocertSettings.fromProperties(with("autocert.domains", "a.example.com;b.example.com",
                "autocert.key-type", "rsa-2048", "autocert.email", "admin@example.com"));
        assertEquals(settings.toString(), settings.toBuilder().build().toString());
    }

    @Test
    void readsDnsSettings() {
        AutocertSettings settings = AutocertSettings.fromProperties(with("autocert.domains", "*.example.com,example.com",
                "autocert.challenges", "dns-01", "autocert.dns-provider", "RFC2136", "autocert.dns-credentials", "/etc/autocert/rfc2136.ini",
                "autocert.dns-credentials-permissions", "warn", "autocert.dns-propagation-timeout", "90",
                "autocert.dns-polling-interval", "5s", "autocert.dns-ttl", "60", "autocert.dns-resolvers", "192.0.2.53, [2001:db8::53]:5353",
                "autocert.dns-propagation-check", "Resolvers"));
        DnsSettings dns = settings.dns();
        assertEquals(Optional.of("rfc2136"), dns.provider());
        assertEquals(Optional.of(Path.of("/etc/autocert/rfc2136.ini")), dns.credentials());
        assertFalse(dns.credentialsStrict());
        assertEquals(Optional.of(java.time.Duration.ofSeconds(90)), dns.propagationTimeout());
        assertEquals(Optional.of(java.time.Duration.ofSeconds(5)), dns.pollingInterval());
        assertEquals(60, dns.ttl().getAsInt());
        assertEquals(List.of("192.0.2.53", "[2001:db8::53]:5353"), dns.resolvers());
        assertEquals(DnsSettings.PropagationCheck.RESOLVERS, dns.propagationCheck());
        assertEquals(dns.toString(), settings.toBuilder().build().dns().toString());

        DnsSettings defaults = AutocertSettings.fromProperties(with()).dns();
        assertTrue(defaults.provider().isEmpty());
        assertTrue(defaults.credentialsStrict());
        assertEquals(DnsSettings.PropagationCheck.AUTHORITATIVE, defaults.propagationCheck());
    }

    @Test
    void refusesDnsSettingsThatCannotWork() {
        InvalidSettingException noDns01 = invalid(with("autocert.dns-provider", "cloudflare"));
        assertEquals("autocert.dns-provider", noDns01.setting());
        assertTrue(noDns01.getMessage().contains("does not include dns-01; add it"), noDns01.getMessage());

        InvalidSettingException noProvider = invalid(with("autocert.challenges", "dns-01", "autocert.dns-credentials", "/etc/x.ini"));
        assertEquals("autocert.dns-credentials", noProvider.setting());

        assertEquals("autocert.dns-propagation-check", invalid(with("autocert.dns-propagation-check", "everywhere")).setting());
        assertEquals("autocert.dns-credentials-permissions", invalid(with("autocert.dns-credentials-permissions", "lax")).setting());
        assertEquals("autocert.dns-ttl", invalid(with("autocert.dns-ttl", "0")).setting());
        assertEquals("autocert.dns-propagation-timeout", invalid(with("autocert.dns-propagation-timeout", "0s")).setting());
        InvalidSettingException resolvers = invalid(with("autocert.dns-resolvers", "192.0.2.53:99999"));
        assertEquals("autocert.dns-resolvers", resolvers.setting());
        assertTrue(resolvers.getMessage().contains("'192.0.2.53:99999'"), resolvers.getMessage());
    }

    @Test
    void dns01WithoutTheDnsModuleStopsStartUpNamingIt() {
        // core's own tests run without autocert-dns on the class path, as a server would that lacks it
        AutocertSettings settings = AutocertSettings.fromProperties(with("autocert.domains", "*.example.com",
                "autocert.challenges", "dns-01", "autocert.dns-provider", "rfc2136", "autocert.storage", dir.toString()));
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> CertificateManager.builder(settings).build());
        assertEquals("autocert.challenges", e.setting());
        assertTrue(e.getMessage().contains("needs the autocert-dns module"), e.getMessage());
    }
}
