# Autocert DNS-01: the DNS providers (rfc2136, powerdns, exec, acme-dns, hosted DNS APIs) for
# autocert.challenges=dns-01 and wildcard certificates. Guide: docs/dns.md of the Autocert project.

[description]
Adds Autocert's DNS-01 providers and dnsjava to the autocert module, for wildcard certificates
and servers the CA cannot reach on port 80. Set autocert.challenges=dns-01, autocert.dns-provider
and autocert.dns-credentials in start.d/autocert.ini.

[tags]
acme

[depend]
autocert

[lib]
lib/autocert-dns/*.jar
