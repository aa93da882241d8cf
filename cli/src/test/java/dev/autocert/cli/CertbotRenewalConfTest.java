package dev.autocert.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CertbotRenewalConfTest {

    /** As Certbot 2.1 writes it, with a webroot map and hooks that ConfigObj had to quote. */
    private static final String CONF = """
            # renew_before_expiry = 30 days
            version = 2.1.0
            archive_dir = /etc/letsencrypt/archive/example.com
            cert = /etc/letsencrypt/live/example.com/cert.pem

            # Options used in the renewal process
            [renewalparams]
            account = 8cb81192f4fb59322e21da97e44229d4
            authenticator = webroot
            webroot_path = /var/www/html, /srv/www,
            server = https://acme-v02.api.letsencrypt.org/directory
            key_type = ecdsa
            deploy_hook = "systemctl reload nginx, and more"
            pre_hook = 'echo "# not a comment"'
            post_hook = \"""echo 'both' "kinds" of quotes\"""
            reuse_key = True
            preferred_chain = None
            [[webroot_map]]
            example.com = /var/www/html
            www.example.com = /srv/www
            """;

    @Test
    void readsTopValuesAndRenewalParams() {
        CertbotRenewalConf conf = CertbotRenewalConf.parse(CONF);
        assertEquals(Optional.of("/etc/letsencrypt/archive/example.com"), conf.get(CertbotRenewalConf.TOP, "archive_dir"));
        assertEquals(Optional.empty(), conf.get(CertbotRenewalConf.TOP, "renew_before_expiry"), "commented out");
        assertEquals(Optional.of("webroot"), conf.param("authenticator"));
        assertEquals(Optional.of("https://acme-v02.api.letsencrypt.org/directory"), conf.param("server"));
        assertTrue(conf.flag("reuse_key"));
        assertFalse(conf.flag("must_staple"));
        assertEquals(Optional.empty(), conf.param("preferred_chain"), "None is Python's null");
    }

    @Test
    void readsListsAndQuotedValuesAsConfigObjWritesThem() {
        CertbotRenewalConf conf = CertbotRenewalConf.parse(CONF);
        assertEquals(List.of("/var/www/html", "/srv/www"), conf.paramList("webroot_path"));
        assertEquals(Optional.of("systemctl reload nginx, and more"), conf.param("deploy_hook"));
        assertEquals(Optional.of("echo \"# not a comment\""), conf.param("pre_hook"));
        assertEquals(Optional.of("echo 'both' \"kinds\" of quotes"), conf.param("post_hook"));
        assertEquals(List.of("dns-01"), CertbotRenewalConf.parse("[renewalparams]\npref_challs = dns-01,\n").paramList("pref_challs"));
    }

    @Test
    void readsTheWebrootMapSubsection() {
        assertEquals(Map.of("example.com", "/var/www/html", "www.example.com", "/srv/www"), CertbotRenewalConf.parse(CONF).webrootMap());
    }
}
