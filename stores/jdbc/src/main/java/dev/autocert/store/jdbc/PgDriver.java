package dev.autocert.store.jdbc;

import java.util.Properties;

/**
 * The PostgreSQL JDBC driver, which the application supplies ({@code org.postgresql:postgresql}).
 * Used directly rather than through {@link java.sql.DriverManager}, which may not see a driver in
 * another class loader of an application server.
 */
final class PgDriver {

    static final String CLASS = "org.postgresql.Driver";
    static final String COORDINATES = "org.postgresql:postgresql";

    private PgDriver() {
    }

    /** {@return whether the driver is on this module's class path} */
    static boolean present() {
        try {
            Class.forName(CLASS, false, PgDriver.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** @throws IllegalStateException naming the Maven coordinates, when the driver is missing */
    static void require() {
        if (!present()) {
            throw new IllegalStateException("The PostgreSQL JDBC driver (" + CLASS + ") is not on the class path: add "
                    + COORDINATES + " (42.x) to the application");
        }
    }

    /** {@return the properties the driver reads from {@code url} alone, or null when it does not accept it} */
    static Properties parse(String url) {
        return org.postgresql.Driver.parseURL(url, new Properties());
    }

    /** {@return connections to {@code url} with {@code properties}} */
    static ConnectionPool.Source source(String url, Properties properties) {
        org.postgresql.Driver driver = new org.postgresql.Driver();
        return () -> driver.connect(url, properties);
    }
}
