package dev.autocert.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * What every server of the test kit does as a JUnit 5 extension: started before the tests of the
 * class that registers it (unless it already runs), stopped after them (only if that class started
 * it), and supplied as a parameter of its own class. Subclasses guard their state with
 * {@code this}, as these methods do.
 */
abstract class ServerExtension implements AutoCloseable, BeforeAllCallback, AfterAllCallback, ParameterResolver {

    /** The unique id of the test class whose {@link #beforeAll} started the server; guarded by {@code this}. */
    private String startedForContext;

    /** Stops the server when the JVM exits without {@link #afterAll} (Ctrl-C); guarded by {@code this}. */
    private Thread shutdownHook;

    /** Starts the server. */
    public abstract void start();

    /** Stops the server; does nothing when it is not running. */
    public abstract void stop();

    /** {@return whether the server is running} */
    public abstract boolean isRunning();

    /** Stops the server; same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /**
     * Starts the server before the tests of a class, unless it is already running.
     *
     * @param context the JUnit context of the test class
     */
    @Override
    public synchronized void beforeAll(ExtensionContext context) {
        if (!isRunning()) {
            start();
            startedForContext = context.getUniqueId();
        }
    }

    /**
     * Stops the server after the tests of the class whose {@link #beforeAll} started it; a server
     * started by other means is left running.
     *
     * @param context the JUnit context of the test class
     */
    @Override
    public synchronized void afterAll(ExtensionContext context) {
        if (context.getUniqueId().equals(startedForContext)) {
            startedForContext = null;
            stop();
        }
    }

    /**
     * Tells JUnit that this extension supplies parameters of exactly its own class, such as
     * {@code PebbleServer}. (With two servers of one class registered, use the static fields.)
     *
     * @param parameterContext the parameter
     * @param extensionContext the JUnit context
     * @return true for a parameter of this server's class
     */
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == getClass();
    }

    /**
     * Supplies this server as a test method or constructor parameter.
     *
     * @param parameterContext the parameter
     * @param extensionContext the JUnit context
     * @return this server
     */
    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return this;
    }

    /** Makes the JVM stop the server when it exits, unless {@link #removeShutdownHook()} comes first. */
    final synchronized void addShutdownHook(String name) {
        if (shutdownHook == null) {
            shutdownHook = new Thread(this::stop, "autocert-testkit-" + name + "-shutdown");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
    }

    /** Undoes {@link #addShutdownHook}, once the server stopped. */
    final synchronized void removeShutdownHook() {
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook is what is stopping us.
            }
            shutdownHook = null;
        }
    }
}
