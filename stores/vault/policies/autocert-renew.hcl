# Autocert renewing the certificates it already has, and nothing more: it cannot start a new
# lineage (live/NAME, renewal/NAME.properties), register a new account, rewrite a past version
# (archive/ is write-once) or delete anything. For autocert.storage=vault:https://HOST:8200/secret/autocert;
# replace "secret" (the mount) and "autocert" (the path) with yours.
#   bao policy write autocert-renew autocert-renew.hcl
#
# Vault's "create" is the right to write a secret that does not exist, "update" one that does.
# A renewal writes NEW secrets archive/NAME/{cert,chain,fullchain,privkey}N.pem, then replaces
# renewal/NAME.properties (the commit) and live/NAME (the set other programs read): so archive/
# gets create, the others update only.

# Read and list everything.
path "secret/data/autocert/*" {
  capabilities = ["read"]
}
path "secret/metadata/autocert/*" {
  capabilities = ["read", "list"]
}

# A new version's files. Vault cannot tell an existing NAME from a new one here, so a renew token
# can write archive files under a new name too; they stay inert, since it cannot create
# renewal/NAME.properties or live/NAME. To allow only named certificates, replace "*" with one
# block per name: path "secret/data/autocert/archive/example.com/*".
path "secret/data/autocert/archive/*" {
  capabilities = ["read", "create"]
}

# Make the new version current: replace, never create.
path "secret/data/autocert/renewal/*" {
  capabilities = ["read", "update"]
}
path "secret/data/autocert/live/*" {
  capabilities = ["read", "update"]
}

# The account: read its key and update its record, never create one.
path "secret/data/autocert/accounts/*" {
  capabilities = ["read", "update"]
}

# What renewal records per certificate: the CA's ARI answer and the last outcome.
path "secret/data/autocert/ari/*" {
  capabilities = ["read", "create", "update"]
}
path "secret/data/autocert/status/*" {
  capabilities = ["read", "create", "update"]
}

# Locks and the change marker.
path "secret/data/autocert/~autocert/*" {
  capabilities = ["read", "create", "update"]
}

# HTTP-01 challenge tokens, shared while a challenge is open so that any node behind a balancer
# answers the CA; removed when it is done. (DNS-01 and TLS-ALPN-01 do not use them.)
path "secret/data/autocert/challenges/*" {
  capabilities = ["read", "create", "update"]
}
path "secret/metadata/autocert/challenges/*" {
  capabilities = ["read", "list", "delete"]
}
