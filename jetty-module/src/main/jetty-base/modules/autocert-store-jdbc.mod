# Autocert storage in PostgreSQL: autocert.storage=jdbc:postgresql://HOST/DATABASE, for servers
# that share certificates (a cluster). Guide: docs/storage.md of the Autocert project.

[description]
Keeps Autocert's accounts and certificates in PostgreSQL, shared by every server of a cluster.
Copy the PostgreSQL JDBC driver (org.postgresql:postgresql, postgresql-42.x.jar) into
lib/autocert-store-jdbc/, then set autocert.storage, autocert.storage-username and (or PGPASSWORD)
autocert.storage-password in start.d/autocert.ini.

[tags]
acme

[depend]
autocert

[lib]
lib/autocert-store-jdbc/*.jar
