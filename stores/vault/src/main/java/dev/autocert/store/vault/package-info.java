/**
 * Autocert's storage in a HashiCorp Vault or OpenBao KV version 2 secrets engine
 * ({@code autocert.storage=vault:https://HOST:PORT/MOUNT/PATH}): {@link dev.autocert.store.vault.VaultStorage}.
 */
package dev.autocert.store.vault;
