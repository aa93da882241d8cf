package dev.autocert.testkit;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import javax.management.JMException;
import javax.management.MBeanServerConnection;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * A JMX client for tests that reads what a server process shows over remote JMX, as JConsole or
 * a JMX exporter would: the JVM options that open the JDK's own JMX agent on a loopback port,
 * and a connection that finds MBeans and reads their attributes.
 *
 * <pre>{@code
 * int jmxPort = ...; // a free loopback port
 * command.addAll(JmxProbe.jvmOptions(jmxPort)); // or CATALINA_OPTS
 * try (JmxProbe.Connection jmx = JmxProbe.connect(jmxPort, Duration.ofSeconds(30))) {
 *     ObjectName manager = jmx.one("dev.autocert:type=CertificateManager,*");
 *     long obtained = (Long) jmx.attribute(manager, "Obtained");
 *     Map<String, Long> expiry = jmx.longs(manager, "SecondsUntilExpiry");
 * }
 * }</pre>
 *
 * <p>Without authentication or TLS, so for 127.0.0.1 only. Thread-safe (stateless); a
 * {@link Connection} is for one thread.
 */
public final class JmxProbe {

    private JmxProbe() {
    }

    /**
     * The JVM options that open the JDK's JMX agent (RMI registry and RMI server both) on
     * 127.0.0.1:{@code port}, without authentication or TLS: the {@code com.sun.management.jmxremote}
     * options of docs/operations.md.
     */
    public static List<String> jvmOptions(int port) {
        return List.of(
                "-Dcom.sun.management.jmxremote.port=" + port,
                "-Dcom.sun.management.jmxremote.rmi.port=" + port,
                "-Dcom.sun.management.jmxremote.host=127.0.0.1",
                "-Djava.rmi.server.hostname=127.0.0.1",
                "-Dcom.sun.management.jmxremote.authenticate=false",
                "-Dcom.sun.management.jmxremote.ssl=false");
    }

    /** The service URL of the agent that {@link #jvmOptions(int)} opens, as JConsole takes it. */
    public static JMXServiceURL serviceUrl(int port) {
        try {
            return new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
        } catch (java.net.MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /**
     * Connects again and again to the agent on 127.0.0.1:{@code port} until it answers.
     *
     * @throws AssertionError when it does not within {@code timeout}, naming the last failure
     */
    public static Connection connect(int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            try {
                JMXConnector connector = JMXConnectorFactory.connect(serviceUrl(port));
                return new Connection(connector, connector.getMBeanServerConnection());
            } catch (IOException e) {
                last = e; // the process is still starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError("Within " + timeout + ", no JMX agent answered at " + serviceUrl(port) + "; last: " + last);
    }

    /** A connection to one process's MBean server. */
    public static final class Connection implements AutoCloseable {
        private final JMXConnector connector;
        private final MBeanServerConnection server;

        private Connection(JMXConnector connector, MBeanServerConnection server) {
            this.connector = connector;
            this.server = server;
        }

        /** The names that match {@code pattern}, such as {@code dev.autocert:type=CertificateManager,*}. */
        public Set<ObjectName> names(String pattern) throws IOException {
            return server.queryNames(objectName(pattern), null);
        }

        /**
         * The one MBean that matches {@code pattern}.
         *
         * @throws AssertionError when none or several match, naming them
         */
        public ObjectName one(String pattern) throws IOException {
            Set<ObjectName> names = names(pattern);
            if (names.size() != 1) {
                throw new AssertionError("Expected one MBean " + pattern + " but found " + names);
            }
            return names.iterator().next();
        }

        /** The value of {@code attribute}, as JMX sends it (open types for an MXBean). */
        public Object attribute(ObjectName name, String attribute) throws IOException, JMException {
            return server.getAttribute(name, attribute);
        }

        /**
         * An MXBean attribute of Java type {@code Map<String, Long>}, which JMX sends as a table of
         * {@code key} and {@code value} rows, as a map in the table's order.
         */
        public Map<String, Long> longs(ObjectName name, String attribute) throws IOException, JMException {
            Object value = attribute(name, attribute);
            if (!(value instanceof TabularData table)) {
                throw new AssertionError(name + " " + attribute + ": expected a table (an MXBean's map) but was " + value);
            }
            Map<String, Long> result = new LinkedHashMap<>();
            for (Object row : table.values()) {
                CompositeData data = (CompositeData) row;
                result.put((String) data.get("key"), (Long) data.get("value"));
            }
            return result;
        }

        /**
         * Reads {@code attribute} again and again until {@code condition} holds, and returns it.
         *
         * @throws AssertionError when it does not within {@code timeout}, naming the last value
         */
        public Object await(ObjectName name, String attribute, Predicate<Object> condition, Duration timeout)
                throws IOException, JMException, InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            Object value = attribute(name, attribute);
            while (!condition.test(value)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("Within " + timeout + ", " + name + " " + attribute + " stayed " + value);
                }
                Thread.sleep(100);
                value = attribute(name, attribute);
            }
            return value;
        }

        @Override
        public void close() throws IOException {
            connector.close();
        }

        private static ObjectName objectName(String name) {
            try {
                return new ObjectName(name);
            } catch (MalformedObjectNameException e) {
                throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
            }
        }
    }
}
