package dev.autocert.store.jdbc;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postgresql.PGConnection;

/**
 * A minimal connection pool, as an application's would be at its most naive: closing a connection
 * puts its physical connection back, session state and all, and the next {@link #getConnection()}
 * hands the most recently returned one out again. {@link Connection#abort} ends the physical
 * connection, which the pool then drops. SQL can be made to fail ({@link #failBefore},
 * {@link #failAfter}) to stand for an error at the worst moment.
 */
final class ReusingDataSource implements DataSource {

    private final DataSource physical;
    private final Deque<Connection> idle = new ArrayDeque<>();
    private final List<Connection> created = new ArrayList<>();
    /** The server process of each physical connection, by its place in {@link #created}. */
    private final List<Integer> pids = new ArrayList<>();
    private volatile Predicate<String> failBefore = sql -> false;
    private volatile Predicate<String> failAfter = sql -> false;

    ReusingDataSource(DataSource physical) {
        this.physical = physical;
    }

    /** Statements whose SQL matches fail before they reach the server. */
    void failBefore(Predicate<String> matching) {
        failBefore = matching;
    }

    /** Statements whose SQL matches run on the server, then fail as if the answer were lost. */
    void failAfter(Predicate<String> matching) {
        failAfter = matching;
    }

    void failNothing() {
        failBefore = sql -> false;
        failAfter = sql -> false;
    }

    /** {@return the physical connections idle in the pool, most recently returned first} */
    synchronized List<Connection> idle() {
        List<Connection> open = new ArrayList<>();
        for (Connection connection : idle) {
            if (!isClosed(connection)) {
                open.add(connection);
            }
        }
        return open;
    }

    /** {@return the idle physical connection of the server process {@code pid}, or null} */
    synchronized Connection idle(int pid) throws SQLException {
        for (Connection connection : idle()) {
            if (connection.unwrap(PGConnection.class).getBackendPID() == pid) {
                return connection;
            }
        }
        return null;
    }

    /** {@return the physical connection of the server process {@code pid}, in use, idle or closed} */
    synchronized Connection physical(int pid) throws SQLException {
        int index = pids.indexOf(pid);
        if (index >= 0) {
            return created.get(index);
        }
        throw new AssertionError("the pool made no connection of backend " + pid);
    }

    /** Closes every physical connection. */
    synchronized void closeAll() {
        for (Connection connection : created) {
            try {
                connection.close();
            } catch (SQLException e) {
                // closing anyway
            }
        }
        idle.clear();
    }

    private static boolean isClosed(Connection connection) {
        try {
            return connection.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    @Override
    public Connection getConnection() throws SQLException {
        Connection connection;
        synchronized (this) {
            connection = idle.pollFirst();
            while (connection != null && isClosed(connection)) {
                connection = idle.pollFirst();
            }
        }
        if (connection == null) {
            connection = physical.getConnection();
            int pid = connection.unwrap(PGConnection.class).getBackendPID();
            synchronized (this) {
                created.add(connection);
                pids.add(pid);
            }
        }
        return handle(connection);
    }

    private synchronized void giveBack(Connection connection) {
        if (!isClosed(connection)) {
            idle.addFirst(connection); // as it is: no reset, as a naive pool
        }
    }

    private Connection handle(Connection connection) {
        InvocationHandler handler = new InvocationHandler() {
            private boolean closed;

            @Override
            public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
                switch (method.getName()) {
                    case "close":
                        synchronized (this) {
                            if (!closed) {
                                closed = true;
                                giveBack(connection);
                            }
                        }
                        return null;
                    case "abort":
                        synchronized (this) {
                            if (closed) {
                                return null; // given back already: no longer this borrower's
                            }
                            closed = true;
                        }
                        connection.abort(Runnable::run);
                        return null;
                    case "isClosed":
                        synchronized (this) {
                            return closed || connection.isClosed();
                        }
                    case "unwrap":
                    case "isWrapperFor":
                    case "hashCode":
                    case "equals":
                    case "toString":
                        return call(connection, method, args);
                    default:
                        break;
                }
                synchronized (this) {
                    if (closed) {
                        throw new SQLException("This pooled connection has been closed.", "08003");
                    }
                }
                Object result = call(connection, method, args);
                if (result instanceof Statement statement) {
                    String sql = args != null && args.length > 0 && args[0] instanceof String text ? text : null;
                    return statement(statement, sql);
                }
                return result;
            }
        };
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class}, handler);
    }

    private Statement statement(Statement statement, String prepared) {
        Class<?> type = statement instanceof PreparedStatement ? PreparedStatement.class : Statement.class;
        return (Statement) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (!method.getName().startsWith("execute")) {
                return call(statement, method, args);
            }
            String sql = args != null && args.length > 0 && args[0] instanceof String text ? text : prepared;
            if (sql != null && failBefore.test(sql)) {
                throw new SQLException("injected failure before " + sql, "XX000");
            }
            Object result = call(statement, method, args);
            if (sql != null && failAfter.test(sql)) {
                if (result instanceof ResultSet rows) {
                    rows.close();
                }
                throw new SQLException("injected failure after " + sql, "XX000");
            }
            return result;
        });
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
    }

    @Override
    public void setLoginTimeout(int seconds) {
    }

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return false;
    }
}
