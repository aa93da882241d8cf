# Autocert: automatic HTTPS certificates for Jetty. Guide: docs/jetty.md of the Autocert project.

[description]
Obtains TLS certificates automatically from an ACME CA (Let's Encrypt by default), serves them
on the HTTPS connector and renews them without a restart. No keystore is needed: the ssl
module's SslContextFactory gets Autocert's key manager. A plain HTTP connector is added on
autocert.http-port (80) for HTTP-01 challenges unless one listens there already.

[tags]
connector
ssl
acme

[depend]
server
ssl

[after]
http
https
http2
ssl-context

[lib]
lib/autocert/*.jar

[xml]
etc/jetty-autocert.xml

[ini]
# Autocert supplies the certificates, so a missing etc/keystore.p12 is not an error.
jetty.sslContext.keyStorePath?=

[ini-template]
# tag::documentation[]
### Autocert: automatic HTTPS (ACME)
## Relative paths are resolved against $JETTY_BASE. Every setting is described in docs/settings.md.
## A name that is not one of these, or an invalid value, stops Jetty at start with one ERROR line.

## The names to obtain certificates for (required). Commas separate the names of one
## certificate, whose first name is its name; semicolons separate certificates.
# autocert.domains=example.com,www.example.com

## The ACME account's contact address.
# autocert.email=

## true accepts the CA's terms of service (Let's Encrypt, ZeroSSL and Google require it).
# autocert.agree-tos=false

## letsencrypt, letsencrypt-staging, zerossl, google, or the https:// URL of an ACME directory;
## several, separated by commas, to fall back on in that order (letsencrypt,zerossl).
# autocert.ca=letsencrypt

## A PEM file of roots trusted for the CA's HTTPS, in addition to the JDK's (private or test CA).
# autocert.ca-trust=

## Where accounts and certificates are kept: a directory (relative to jetty.base),
## jdbc:postgresql://HOST/DB (module autocert-store-jdbc) or vault:https://HOST:8200/MOUNT/PATH
## (module autocert-store-vault). docs/storage.md has each store's settings.
# autocert.storage=autocert

## PostgreSQL user and password (else the URL's own, PGUSER/PGPASSWORD or ~/.pgpass).
# autocert.storage-username=
# autocert.storage-password=

## Vault: a token file (else VAULT_TOKEN), or AppRole with a role ID and a secret ID file;
## PEM certificates to trust for Vault's HTTPS.
# autocert.vault-token-file=
# autocert.vault-role-id=
# autocert.vault-secret-id-file=
# autocert.vault-ca-cert=

## The key of each certificate: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096.
# autocert.key-type=ec-p256

## The challenge types to use, in order of preference: http-01, dns-01, tls-alpn-01.
# autocert.challenges=http-01

## The port where Jetty answers HTTP-01 challenges; CAs connect to port 80.
# autocert.http-port=80

## The HTTPS port, as clients reach it, that plain requests are redirected to (443 when a firewall
## forwards 443 to jetty.ssl.port); empty: the port the HTTPS connector listens on.
# autocert.redirect-port=

## The ACME profile to ask for (for example shortlived); empty, or a CA that lacks it, means the CA's default.
# autocert.profile=

## Whether an order fails when the CA does not offer autocert.profile, instead of taking its default.
# autocert.profile-required=false

## On-demand TLS: names (or *.example.com patterns) that get a certificate at their first handshake.
# autocert.on-demand=
## The URL asked before each on-demand order: GET URL?domain=NAME must answer 200.
# autocert.on-demand-ask=

## External account binding: the key id and base64url HMAC key from your CA account.
# autocert.eab-kid=
# autocert.eab-hmac-key=

## The common name of the top issuer of the chain to prefer; empty means the CA's default.
# autocert.preferred-chain=

## How long start-up waits for every certificate (90s, 5m); 0 serves a placeholder until they arrive.
# autocert.startup-wait=0

## DNS-01 (with autocert.challenges=dns-01; needs the autocert-dns jars in lib/autocert/, see docs/dns.md).
## The provider (rfc2136, powerdns, cloudflare, route53, exec, ...) and its credentials file (mode 0600),
## with Certbot's INI keys or lego's variable names; lego's environment variables work too.
# autocert.dns-provider=
# autocert.dns-credentials=
## strict refuses a credentials file others may read; warn only warns.
# autocert.dns-credentials-permissions=strict
## How long to wait for the TXT record to be visible, and how often to look; the provider's defaults when empty.
# autocert.dns-propagation-timeout=
# autocert.dns-polling-interval=
## The TXT record's time to live in seconds; the provider's default when empty.
# autocert.dns-ttl=
## Resolvers to ask (host[:port], commas); the system's when empty.
# autocert.dns-resolvers=
## Where the record must be visible first: authoritative (the zone's name servers), resolvers, none.
# autocert.dns-propagation-check=authoritative

## Certbot's manual hooks: shell commands run for each HTTP-01 challenge (and DNS-01 without a
## dns-provider) with CERTBOT_DOMAIN, CERTBOT_VALIDATION, CERTBOT_TOKEN, ...; no HTTP connector is added.
# autocert.manual-auth-hook=
# autocert.manual-cleanup-hook=

## Certbot's deploy hook: a shell command run after each new certificate (not at start-up), with
## RENEWED_LINEAGE (the live/NAME directory) and RENEWED_DOMAINS; killed after 5 minutes.
## For example: /usr/sbin/nginx -s reload
# autocert.deploy-hook=

## A shell command run when a certificate is obtained or renewed, an order fails, or a
## certificate is expiring: $1 is the event, $2 the name, details in AUTOCERT_* variables.
# autocert.notify-command=

## How long a certificate's self-signed placeholder may be served (its first certificate has not
## come) before it counts as expiring: an expiring event, the status page 503. 0 turns it off.
# autocert.placeholder-alert=1h

## A JSON status page of the certificates on the HTTPS connectors, at this path (off when empty):
## names, issuer, serial, validity, next renewal and why, last failure; 503 while one is expiring.
# autocert.status-path=/autocert-status
## Who may read it: addresses and networks, or * for anyone; this host only when empty.
# autocert.status-allow=127.0.0.1, 10.0.0.0/8

## Strict-Transport-Security on HTTPS responses: on (max-age=31536000), or a value such as
## max-age=63072000; includeSubDomains. Off when empty.
# autocert.hsts=
# end::documentation[]
