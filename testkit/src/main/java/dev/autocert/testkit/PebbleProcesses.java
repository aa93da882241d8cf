package dev.autocert.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops the two programs of one Pebble setup: {@code pebble-challtestsrv}, the mock
 * DNS server every name is resolved with, and {@code pebble} itself. When Pebble resolves through
 * a DNS server of the test's own, {@code pebble-challtestsrv} is not started.
 *
 * <p>Not thread-safe; {@link PebbleServer} guards it.
 */
final class PebbleProcesses {

    private static final Logger LOG = LoggerFactory.getLogger(PebbleProcesses.class);

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final long POLL_MILLIS = 20;

    /** Inherited environment variables with these prefixes are not passed on, so runs are reproducible. */
    private static final List<String> REMOVED_ENVIRONMENT = List.of("PEBBLE_");

    private final PebbleBinaries binaries;
    private final Ports ports;
    private final Path configFile;
    private final Map<String, String> environment;
    private final Path directory;
    /** The DNS server of the test's own, or null for {@code pebble-challtestsrv}. */
    private final InetSocketAddress dnsServer;

    private ProcessRunner challengeTestServer;
    private ProcessRunner pebble;

    private PebbleProcesses(PebbleBinaries binaries, Ports ports, Path configFile, Map<String, String> environment,
            Path directory, InetSocketAddress dnsServer) {
        this.binaries = binaries;
        this.ports = ports;
        this.configFile = configFile;
        this.environment = Map.copyOf(environment);
        this.directory = directory;
        this.dnsServer = dnsServer;
    }

    /**
     * Starts the mock DNS server, then Pebble, and waits until both listen.
     *
     * @param binaries the programs to run
     * @param ports the ports to listen on
     * @param configFile Pebble's JSON configuration
     * @param environment Pebble's environment variables
     * @param directory the working directory, which also receives the log files
     * @param dnsServer the DNS server Pebble resolves with, or null to start and use the mock one
     * @return the running programs
     * @throws IllegalStateException if a program cannot start, exits, or does not listen within
     *     10 seconds; the message quotes the programs' last output lines
     */
    static PebbleProcesses start(PebbleBinaries binaries, Ports ports, Path configFile, Map<String, String> environment,
            Path directory, InetSocketAddress dnsServer) {
        PebbleProcesses processes = new PebbleProcesses(binaries, ports, configFile, environment, directory, dnsServer);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            if (dnsServer == null) {
                processes.challengeTestServer = processes.launch("challtestsrv", processes.challengeTestServerCommand(),
                        Map.of());
                processes.awaitListening(deadline, ports.challengeManagement(), ports.dns());
            }
            processes.startPebble(deadline);
            return processes;
        } catch (RuntimeException e) {
            processes.stop();
            throw e;
        }
    }

    /**
     * Stops Pebble and starts it again with the same configuration; the mock DNS server keeps
     * running with its records.
     *
     * @throws IllegalStateException like {@link #start}; the caller should then {@link #stop()}
     */
    void restartPebble() {
        pebble.stop(STOP_GRACE);
        pebble = null;
        startPebble(System.nanoTime() + START_TIMEOUT.toNanos());
    }

    /** {@return whether both programs are running (Pebble alone, with a DNS server of the test's own)} */
    boolean isAlive() {
        boolean dnsAlive = dnsServer != null || challengeTestServer != null && challengeTestServer.isAlive();
        return dnsAlive && pebble != null && pebble.isAlive();
    }

    /** Stops both programs and waits until they have exited. */
    void stop() {
        // Pebble first: it uses the DNS server, not the other way round.
        if (pebble != null) {
            pebble.stop(STOP_GRACE);
        }
        if (challengeTestServer != null) {
            challengeTestServer.stop(STOP_GRACE);
        }
    }

    private void startPebble(long deadline) {
        pebble = launch("pebble", pebbleCommand(), environment);
        awaitListening(deadline, ports.acme(), ports.management());
    }

    private List<String> challengeTestServerCommand() {
        String loopback = FreePorts.LOOPBACK.getHostAddress();
        return List.of(
                binaries.challengeTestServer().toString(),
                "-management", loopback + ":" + ports.challengeManagement(),
                // 2.10 renamed -dns01 to -dnsserver and added a DNS-over-HTTPS listener on every interface.
                binaries.current() ? "-dnsserver" : "-dns01", loopback + ":" + ports.dns(),
                // Every challenge responder off: the application under test answers challenges.
                "-http01", "",
                "-https01", "",
                "-tlsalpn01", "",
                binaries.current() ? "-doh" : "-tlsalpn01", "",
                // Every name resolves to 127.0.0.1 only; an AAAA answer of ::1 would make Pebble
                // validate against a server that listens on 127.0.0.1 alone.
                "-defaultIPv4", loopback,
                "-defaultIPv6", "");
    }

    private List<String> pebbleCommand() {
        String resolver = dnsServer == null ? FreePorts.LOOPBACK.getHostAddress() + ":" + ports.dns() : hostPort(dnsServer);
        return List.of(
                binaries.pebble().toString(),
                "-config", configFile.toString(),
                "-dnsserver", resolver);
    }

    /** {@return the address as Go's net package writes it: {@code 127.0.0.1:53}, {@code [::1]:53}} */
    private static String hostPort(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private ProcessRunner launch(String name, List<String> command, Map<String, String> variables) {
        try {
            return ProcessRunner.start(name, command, variables, REMOVED_ENVIRONMENT, directory,
                    directory.resolve(name + ".log"));
        } catch (IOException e) {
            throw new IllegalStateException("Could not start " + name + ": " + e.getMessage() + output(), e);
        }
    }

    /** Polls the ports until all accept connections, failing fast when a program exits. */
    private void awaitListening(long deadline, int... awaited) {
        try {
            for (int port : awaited) {
                while (!FreePorts.isListening(port)) {
                    failIfExited(port);
                    if (System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException("Pebble did not start: nothing listened on "
                                + FreePorts.LOOPBACK.getHostAddress() + ":" + port + " within "
                                + START_TIMEOUT.toSeconds() + " s." + output());
                    }
                    Thread.sleep(POLL_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for Pebble to start", e);
        }
        LOG.debug("Listening on ports {}", awaited);
    }

    private void failIfExited(int awaitedPort) {
        runners().filter(runner -> !runner.isAlive()).findFirst().ifPresent(runner -> {
            throw new IllegalStateException("Pebble did not start: " + runner.name() + " " + runner.status()
                    + " before port " + awaitedPort + " accepted connections." + output());
        });
    }

    /** Returns the last output lines of every started program, for error messages. */
    private String output() {
        StringBuilder message = new StringBuilder();
        runners().forEach(runner -> message.append(System.lineSeparator())
                .append("--- last output of ").append(runner.name()).append(" (").append(runner.status())
                .append(") ---").append(System.lineSeparator())
                .append(runner.tail()));
        message.append(System.lineSeparator()).append("--- (logs in ").append(directory).append(") ---");
        return message.toString();
    }

    private Stream<ProcessRunner> runners() {
        return Stream.of(challengeTestServer, pebble).filter(runner -> runner != null);
    }
}
