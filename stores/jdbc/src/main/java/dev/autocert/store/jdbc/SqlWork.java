package dev.autocert.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/** Work done with one connection, inside or outside a transaction that the caller manages. */
@FunctionalInterface
interface SqlWork<T> {

    T run(Connection connection) throws SQLException;
}
