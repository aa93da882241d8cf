/**
 * Autocert's store in PostgreSQL, so that the nodes of a cluster share accounts, certificates and
 * locks: {@code autocert.storage=jdbc:postgresql://HOST[:PORT]/DATABASE}.
 *
 * <p>Public types, the whole list: {@link dev.autocert.store.jdbc.PostgresStorage} (the store,
 * also for programmatic use from a URL or a {@link javax.sql.DataSource}) and
 * {@link dev.autocert.store.jdbc.PostgresStorageProvider} (found by {@code Storage.of} through
 * {@link java.util.ServiceLoader}). Everything else is package-private.
 *
 * <p>The application supplies the PostgreSQL JDBC driver, {@code org.postgresql:postgresql} 42.x.
 */
package dev.autocert.store.jdbc;
