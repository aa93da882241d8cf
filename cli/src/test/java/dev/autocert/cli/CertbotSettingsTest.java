package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.KeyType;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertbotSettingsTest {

    private static final URI LE = URI.create("https://acme-v02.api.letsencrypt.org/directory");
    private static final String LIVE = "/srv/autocert/live/example.com";

    private static CertbotSettings map(String params, List<String> names, KeyType keyType) {
        return CertbotSettings.of(CertbotRenewalConf.parse("[renewalparams]\n" + params), LE, "example.com", names, keyType, LIVE);
    }

    private static CertbotSettings map(String params) {
        return map(params, List.of("example.com"), KeyType.EC_P256);
    }

    @Test
    void standaloneIsHttp01OnCertbotsPort() {
        CertbotSettings settings = map("authenticator = standalone\nhttp01_port = 8080\n");
        assertEquals("http-01", settings.settings().get("challenges"));
        assertEquals("8080", settings.settings().get("http-port"));
        assertEquals(LE.toString(), settings.settings().get("ca"));
        assertEquals("ec-p256", settings.settings().get("key-type"));
        assertTrue(settings.todo().isEmpty(), settings.todo().toString());
        assertFalse(map("authenticator = standalone\nhttp01_port = 80\n").settings().containsKey("http-port"), "80 is the default");
    }

    @Test
    void aKnownDnsPluginBecomesTheProviderWithTheSameCredentialsFile() {
        CertbotSettings settings = map("authenticator = dns-cloudflare\ndns_cloudflare_credentials = /root/.secrets/cf.ini\n",
                List.of("example.com", "*.example.com"), KeyType.RSA_2048);
        assertEquals("dns-01", settings.settings().get("challenges"));
        assertEquals("cloudflare", settings.settings().get("dns-provider"));
        assertEquals("/root/.secrets/cf.ini", settings.settings().get("dns-credentials"));
        assertEquals("rsa-2048", settings.settings().get("key-type"));
        assertTrue(settings.todo().isEmpty(), settings.todo().toString());
        assertEquals("acme-dns", map("authenticator = certbot-dns-acmedns:dns-acmedns\n").settings().get("dns-provider"));
        assertEquals("gcloud", map("authenticator = dns-google\n").settings().get("dns-provider"));
    }

    @Test
    void aPluginWithoutEquivalentIsATodoThatSaysWhatToSet() {
        CertbotSettings settings = map("authenticator = dns-gehirn\ndns_gehirn_credentials = /etc/letsencrypt/gehirn.ini\n");
        assertFalse(settings.settings().containsKey("dns-provider"));
        assertEquals(1, settings.todo().size());
        assertTrue(settings.todo().get(0).contains("dns-gehirn") && settings.todo().get(0).contains("autocert.dns-provider")
                && settings.todo().get(0).contains("autocert.challenges=dns-01"), settings.todo().get(0));
    }

    @Test
    void manualHooksBecomeTheManualHookSettings() {
        CertbotSettings settings = map("authenticator = manual\npref_challs = dns-01,\nmanual_auth_hook = /usr/local/bin/auth.sh\n"
                + "manual_cleanup_hook = /usr/local/bin/cleanup.sh\n");
        assertEquals("dns-01", settings.settings().get("challenges"));
        assertEquals("/usr/local/bin/auth.sh", settings.settings().get("manual-auth-hook"));
        assertEquals("/usr/local/bin/cleanup.sh", settings.settings().get("manual-cleanup-hook"));
        assertTrue(settings.todo().isEmpty());
        assertEquals(1, map("authenticator = manual\n").todo().size(), "no hook: a person answered each renewal");
    }

    @Test
    void webrootAndInstallersLeaveNotesAndTodos() {
        CertbotSettings webroot = map("authenticator = webroot\nwebroot_path = /var/www/html,\ninstaller = nginx\n"
                + "pre_hook = systemctl stop nginx\nreuse_key = True\n");
        assertEquals("http-01", webroot.settings().get("challenges"));
        assertTrue(webroot.notes().stream().anyMatch(n -> n.contains("/var/www/html/.well-known/acme-challenge")), webroot.notes().toString());
        assertTrue(webroot.notes().stream().anyMatch(n -> n.contains("pre_hook 'systemctl stop nginx'")), webroot.notes().toString());
        assertTrue(webroot.notes().stream().anyMatch(n -> n.contains("reuse_key")), webroot.notes().toString());
        assertTrue(webroot.todo().stream().anyMatch(t -> t.contains(LIVE + "/fullchain.pem")), webroot.todo().toString());
    }

    @Test
    void theDeployHookAndPreferredChainCarryOver() {
        CertbotSettings settings = map("authenticator = standalone\ndeploy_hook = systemctl reload nginx\npreferred_chain = ISRG Root X1\n");
        assertEquals("ISRG Root X1", settings.settings().get("preferred-chain"));
        assertEquals("systemctl reload nginx", settings.settings().get("deploy-hook"));
    }
}
