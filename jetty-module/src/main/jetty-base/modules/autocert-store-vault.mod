# Autocert storage in Vault or OpenBao (KV v2): autocert.storage=vault:https://HOST:8200/MOUNT/PATH.
# Guide: docs/storage.md of the Autocert project.

[description]
Keeps Autocert's accounts and certificates in Vault or OpenBao (KV v2), shared by every server of a
cluster and readable by other tools at MOUNT/PATH/live/NAME. Set autocert.storage and a token
(VAULT_TOKEN or autocert.vault-token-file) or AppRole (autocert.vault-role-id and
autocert.vault-secret-id-file) in start.d/autocert.ini.

[tags]
acme

[depend]
autocert

[lib]
lib/autocert-store-vault/*.jar
