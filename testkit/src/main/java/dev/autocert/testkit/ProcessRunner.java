package dev.autocert.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one external program, copies its output to a log file and to SLF4J, and stops it together
 * with its descendants.
 *
 * <p>Standard error is merged into standard output. Every line goes to the log file, to SLF4J at
 * DEBUG level prefixed with the runner's name, and to a short in-memory tail that error messages
 * can quote.
 */
final class ProcessRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessRunner.class);

    /** How many of the last output lines {@link #tail()} keeps. */
    private static final int TAIL_LINES = 25;

    /** How long to wait for the output pump to drain after the process ended. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(2);

    private final String name;
    private final Process process;
    private final Writer log;
    private final Deque<String> tail = new ArrayDeque<>();
    private final Thread pump;

    private ProcessRunner(String name, Process process, Writer log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.pump = new Thread(this::pumpOutput, "autocert-testkit-" + name + "-output");
        this.pump.setDaemon(true);
    }

    /**
     * Starts a program.
     *
     * @param name a short name used in log lines, thread names and messages
     * @param command the program and its arguments
     * @param environment variables to set; inherited variables whose names start with one of
     *     {@code removedPrefixes} are removed first
     * @param removedPrefixes prefixes of inherited environment variables not to pass on
     * @param directory the working directory
     * @param logFile where to append the program's output
     * @return the running program
     * @throws IOException if the program cannot be started or the log file cannot be created
     */
    static ProcessRunner start(
            String name,
            List<String> command,
            Map<String, String> environment,
            List<String> removedPrefixes,
            Path directory,
            Path logFile)
            throws IOException {
        Objects.requireNonNull(name, "name");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(key -> removedPrefixes.stream().anyMatch(key::startsWith));
        env.putAll(environment);
        Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        LOG.debug("Starting {}: {} (environment {})", name, command, environment);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            log.close();
            throw e;
        }
        ProcessRunner runner = new ProcessRunner(name, process, log);
        process.getOutputStream().close(); // Neither program reads standard input.
        runner.pump.start();
        return runner;
    }

    /** {@return the short name given at start} */
    String name() {
        return name;
    }

    /** {@return the program's process id, for signals such as a reload} */
    long pid() {
        return process.pid();
    }

    /** {@return whether the program is still running} */
    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Returns a description of how the program ended, for error messages.
     *
     * @return for example {@code "exited with code 1"}, or {@code "is running"}
     */
    String status() {
        return process.isAlive() ? "is running" : "exited with code " + process.exitValue();
    }

    /**
     * Returns the last lines the program wrote, waiting briefly for output still in transit when
     * the program has ended.
     *
     * @return the lines separated by newlines, or {@code "(no output)"}
     */
    String tail() {
        if (!process.isAlive()) {
            awaitPump();
        }
        synchronized (tail) {
            return tail.isEmpty() ? "(no output)" : String.join(System.lineSeparator(), tail);
        }
    }

    /**
     * Stops the program and its descendants: politely first, forcibly after {@code grace}.
     *
     * @param grace how long to wait after the polite request
     */
    void stop(Duration grace) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        descendants.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.debug("{} did not stop within {}; killing it", name, grace);
                process.destroyForcibly().waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
            }
            for (ProcessHandle descendant : descendants) {
                if (descendant.isAlive()) {
                    descendant.destroyForcibly();
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            descendants.forEach(ProcessHandle::destroyForcibly);
            Thread.currentThread().interrupt();
        }
        awaitPump();
        LOG.debug("{} stopped ({})", name, process.isAlive() ? "still running" : status());
    }

    private void awaitPump() {
        try {
            pump.join(DRAIN_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void pumpOutput() {
        try (BufferedReader reader = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                Writer log = this.log) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                LOG.debug("[{}] {}", name, line);
                log.write(line);
                log.write(System.lineSeparator());
                log.flush();
                synchronized (tail) {
                    if (tail.size() == TAIL_LINES) {
                        tail.removeFirst();
                    }
                    tail.addLast(line);
                }
            }
        } catch (IOException e) {
            // The stream closes when the process is destroyed; the log may also be deleted.
            LOG.trace("Output of {} no longer readable", name, e);
        }
    }
}
