package dev.autocert.cli;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.KeyType;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What the renewal options of one Certbot lineage become in Autocert's settings: its CA
 * ({@code server}), how its challenges were answered ({@code authenticator}: standalone,
 * webroot, nginx, apache, manual with hooks, a DNS plugin), its key type (from its certificate),
 * its preferred chain and deploy hook; and what has no equivalent, with what to set instead.
 *
 * @param settings {@code autocert.*} names (without the prefix) and values this lineage needs
 * @param todo     what the user must still do for it to renew unattended
 * @param notes    what changes or is left behind, for the user's information
 */
record CertbotSettings(Map<String, String> settings, List<String> todo, List<String> notes) {

    /**
     * Certbot's DNS plugins ({@code dns-NAME}, also with a {@code certbot-dns-NAME:} prefix)
     * whose provider Autocert has, by the plugin's name: the value of
     * {@code autocert.dns-provider}. Their credentials files use the same keys.
     */
    static final Map<String, String> DNS_PLUGINS = Map.ofEntries(
            Map.entry("rfc2136", "rfc2136"),
            Map.entry("cloudflare", "cloudflare"),
            Map.entry("digitalocean", "digitalocean"),
            Map.entry("hetzner", "hetzner"),
            Map.entry("linode", "linode"),
            Map.entry("desec", "desec"),
            Map.entry("powerdns", "powerdns"),
            Map.entry("pdns", "powerdns"),
            Map.entry("porkbun", "porkbun"),
            Map.entry("gandi", "gandi"),
            Map.entry("dnsimple", "dnsimple"),
            Map.entry("acmedns", "acme-dns"),
            Map.entry("route53", "route53"),
            Map.entry("google", "gcloud"),
            Map.entry("azure", "azuredns"),
            Map.entry("ovh", "ovh"));

    static final String HTTP_01 = "http-01";
    static final String DNS_01 = "dns-01";

    CertbotSettings {
        settings = Map.copyOf(settings);
        todo = List.copyOf(todo);
        notes = List.copyOf(notes);
    }

    /**
     * The settings for the Certbot lineage {@code lineageName}, whose renewal file is {@code conf}
     * and whose current certificate came from {@code server}, covers {@code names} with a key of
     * {@code keyType}, and will be served from {@code liveDirectory}.
     */
    static CertbotSettings of(CertbotRenewalConf conf, URI server, String lineageName, List<String> names, KeyType keyType,
            String liveDirectory) {
        Map<String, String> settings = new LinkedHashMap<>();
        List<String> todo = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        settings.put("ca", server.toString());
        settings.put("key-type", keyType.id());
        String authenticator = conf.param("authenticator").orElse("");
        // A third-party plugin may be written with its package: certbot-dns-acmedns:dns-acmedns
        String plugin = (authenticator.contains(":") ? authenticator.substring(authenticator.indexOf(':') + 1) : authenticator)
                .toLowerCase(Locale.ROOT);
        List<String> challenges = conf.paramList("pref_challs");
        switch (plugin) {
            case "standalone" -> {
                settings.put("challenges", HTTP_01);
                conf.param("http01_port").filter(port -> !port.equals("80")).ifPresent(port -> settings.put("http-port", port));
            }
            case "webroot" -> {
                settings.put("challenges", HTTP_01);
                List<String> webroots = new ArrayList<>(conf.paramList("webroot_path"));
                conf.webrootMap().values().stream().filter(w -> !webroots.contains(w)).forEach(webroots::add);
                String webroot = webroots.isEmpty() ? "/var/www/html" : webroots.get(0);
                notes.add("Certbot wrote its HTTP-01 answers into " + (webroots.isEmpty() ? "a webroot" : String.join(", ", webroots))
                        + "; the Autocert server answers them itself, on " + AutocertSettings.PREFIX + "http-port (80). If another web "
                        + "server keeps port 80 for these names, set " + AutocertSettings.PREFIX + "manual-auth-hook='mkdir -p " + webroot
                        + "/.well-known/acme-challenge && printf %s \"$CERTBOT_VALIDATION\" > " + webroot
                        + "/.well-known/acme-challenge/$CERTBOT_TOKEN'");
            }
            case "nginx", "apache" -> {
                settings.put("challenges", HTTP_01);
                notes.add("Certbot answered HTTP-01 through " + plugin + "; the Autocert server answers it itself, on "
                        + AutocertSettings.PREFIX + "http-port (80). If " + plugin + " keeps port 80 for these names, send "
                        + "/.well-known/acme-challenge/ to the server, or set " + AutocertSettings.PREFIX + "manual-auth-hook");
            }
            case "manual" -> {
                Optional<String> auth = conf.param("manual_auth_hook");
                boolean dns = challenges.contains(DNS_01) || challenges.contains("dns");
                settings.put("challenges", dns ? DNS_01 : HTTP_01);
                if (auth.isPresent()) {
                    settings.put("manual-auth-hook", auth.get());
                    conf.param("manual_cleanup_hook").ifPresent(hook -> settings.put("manual-cleanup-hook", hook));
                } else {
                    todo.add("Certbot's manual authenticator without --manual-auth-hook needs a person at each renewal; set "
                            + AutocertSettings.PREFIX + "manual-auth-hook (Certbot's hook works as it is), or "
                            + AutocertSettings.PREFIX + "challenges=dns-01 with " + AutocertSettings.PREFIX + "dns-provider");
                }
            }
            default -> {
                if (plugin.startsWith("dns-") && DNS_PLUGINS.containsKey(plugin.substring(4))) {
                    settings.put("challenges", DNS_01);
                    settings.put("dns-provider", DNS_PLUGINS.get(plugin.substring(4)));
                    credentials(conf).ifPresentOrElse(file -> settings.put("dns-credentials", file),
                            () -> notes.add("Certbot's " + plugin + " took its credentials from the environment: give the server "
                                    + "the same variables, or set " + AutocertSettings.PREFIX + "dns-credentials (docs/dns.md)"));
                } else if (plugin.startsWith("dns-")) {
                    todo.add("Certbot's " + authenticator + " plugin has no Autocert DNS provider; set " + AutocertSettings.PREFIX
                            + "challenges=dns-01 and " + AutocertSettings.PREFIX + "dns-provider to one of "
                            + String.join(", ", DNS_PLUGINS.values().stream().distinct().sorted().toList())
                            + ", or exec to run your own program (docs/dns.md), or set " + AutocertSettings.PREFIX + "manual-auth-hook");
                } else {
                    todo.add((authenticator.isEmpty() ? "Its renewal file names no authenticator"
                            : "Certbot's authenticator " + authenticator + " has no Autocert equivalent")
                            + "; set " + AutocertSettings.PREFIX + "challenges (http-01 answered by the server itself, dns-01 with "
                            + AutocertSettings.PREFIX + "dns-provider) or " + AutocertSettings.PREFIX + "manual-auth-hook");
                }
            }
        }
        if (names.stream().anyMatch(n -> n.startsWith("*.")) && !DNS_01.equals(settings.get("challenges"))
                && !settings.containsKey("manual-auth-hook")) {
            settings.put("challenges", DNS_01);
        }
        conf.param("preferred_chain").ifPresent(chain -> settings.put("preferred-chain", chain));
        Optional<String> deploy = conf.param("deploy_hook").or(() -> conf.param("renew_hook"));
        if (deploy.isPresent()) {
            if (AutocertSettings.NAMES.contains("deploy-hook")) {
                settings.put("deploy-hook", deploy.get());
                notes.add("its deploy hook now runs in the server after each renewal, with RENEWED_LINEAGE=" + liveDirectory);
            } else {
                todo.add("its deploy hook '" + deploy.get() + "' is not carried over: run it after renewals ('autocert renew "
                        + "--deploy-hook')");
            }
        }
        conf.param("installer").filter(i -> !i.equals("None") && !i.equals("null")).ifPresent(installer -> todo.add(
                "Certbot's " + installer + " installer pointed " + installer + " at " + lineageName + "'s files in "
                        + "Certbot's live/; point it at " + liveDirectory + "/fullchain.pem and privkey.pem"
                        + (deploy.isPresent() ? "" : " and reload it from " + AutocertSettings.PREFIX + "deploy-hook (for example "
                        + "'systemctl reload " + installer + "')")));
        List<String> aroundHooks = new ArrayList<>();
        conf.param("pre_hook").ifPresent(hook -> aroundHooks.add("pre_hook '" + hook + "'"));
        conf.param("post_hook").ifPresent(hook -> aroundHooks.add("post_hook '" + hook + "'"));
        if (!aroundHooks.isEmpty()) {
            notes.add("its " + String.join(" and ", aroundHooks) + " are not carried over: the server answers challenges itself, "
                    + "so nothing needs stopping ('autocert renew --pre-hook/--post-hook' runs them around the command's renewals)");
        }
        if (conf.flag("reuse_key")) {
            notes.add("reuse_key is not carried over: each renewal makes a new key");
        }
        if (conf.flag("must_staple")) {
            notes.add("must_staple is not carried over: renewed certificates do not require OCSP stapling");
        }
        conf.get(CertbotRenewalConf.TOP, "renew_before_expiry").ifPresent(before -> notes.add("renew_before_expiry = " + before
                + " is not carried over: Autocert renews when a third of the lifetime is left, or in the CA's ARI window"));
        return new CertbotSettings(settings, todo, notes);
    }

    /** The credentials file of a DNS plugin: the {@code [renewalparams]} key ending in {@code _credentials}. */
    private static Optional<String> credentials(CertbotRenewalConf conf) {
        return conf.paramNames().stream().filter(key -> key.endsWith("_credentials")).findFirst().flatMap(conf::param);
    }
}
