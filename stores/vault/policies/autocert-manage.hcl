# Autocert with full use of its storage: obtain certificates for new names, register accounts,
# renew, revoke and delete. For autocert.storage=vault:https://HOST:8200/secret/autocert; replace
# "secret" (the mount) and "autocert" (the path) with yours.
#   bao policy write autocert-manage autocert-manage.hcl

# Read, create and replace every key, lock and the change marker.
path "secret/data/autocert/*" {
  capabilities = ["create", "read", "update"]
}

# List keys; read the change marker's version; delete keys (autocert delete, lineage clean-up).
path "secret/metadata/autocert/*" {
  capabilities = ["read", "list", "delete"]
}
