package dev.autocert.cluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One server of the cluster: a sample application (embedded Jetty, embedded Tomcat or Spring
 * Boot) started as its own {@code java} process, as a user runs it, with the store's module and
 * driver added to its class path and its {@code autocert.*} settings as system properties.
 */
final class ServerNode implements AutoCloseable {

    enum Kind { JETTY, TOMCAT, SPRING_BOOT }

    private final Kind kind;
    private final int httpPort;
    private final int httpsPort;
    private final Path log;
    private Process process;

    private ServerNode(Kind kind, int httpPort, int httpsPort, Path log) {
        this.kind = kind;
        this.httpPort = httpPort;
        this.httpsPort = httpsPort;
        this.log = log;
    }

    /** Starts {@code kind} with {@code settings} ({@code autocert.*}; the ports are added) and returns at once. */
    static ServerNode start(Kind kind, Map<String, String> settings, Path work) throws IOException {
        ServerNode node = new ServerNode(kind, freePort(), freePort(), work.resolve(kind.name().toLowerCase() + "-"
                + System.nanoTime() + ".log"));
        node.launch(settings, work);
        return node;
    }

    private void launch(Map<String, String> settings, Path work) throws IOException {
        Path samples = Path.of(System.getProperty("autocert.it.samples", "../samples")).toAbsolutePath().normalize();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        settings.forEach((name, value) -> command.add("-D" + name + "=" + value));
        command.add("-Dautocert.http-port=" + httpPort);
        String extra = String.join(java.io.File.pathSeparator, storeClassPath());
        switch (kind) {
            case JETTY -> {
                Path sample = samples.resolve("jetty-embedded/target");
                command.add("-Dsample.https-port=" + httpsPort);
                command.add("-Dsample.host=127.0.0.1");
                command.add("-cp");
                command.add(sample.resolve("classes") + java.io.File.pathSeparator
                        + Files.readString(sample.resolve("classpath.txt")).trim() + java.io.File.pathSeparator + extra);
                command.add("dev.autocert.samples.jetty.HelloJetty");
            }
            case TOMCAT -> {
                Path sample = samples.resolve("tomcat-embedded/target");
                Path base = Files.createDirectories(work.resolve("tomcat-base-" + httpsPort));
                command.add("-Dhttps.port=" + httpsPort);
                command.add("-Dsample.base=" + base);
                command.add("-cp");
                command.add(jar(sample, "autocert-sample-tomcat-") + java.io.File.pathSeparator + sample.resolve("lib") + "/*"
                        + java.io.File.pathSeparator + extra);
                command.add("dev.autocert.samples.tomcat.Main");
            }
            case SPRING_BOOT -> {
                Path sample = samples.resolve("spring-boot/target");
                // How a Spring Boot jar gets a driver and a module it was not built with: loader.path.
                command.add("-Dloader.path=" + String.join(",", storeClassPath()));
                command.add("-Dserver.port=" + httpsPort);
                command.add("-Dserver.address=127.0.0.1");
                command.add("-cp");
                command.add(jar(sample, "autocert-sample-spring-boot-").toString());
                command.add("org.springframework.boot.loader.launch.PropertiesLauncher");
            }
            default -> throw new IllegalStateException();
        }
        process = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
    }

    /** The store modules, the PostgreSQL driver and their dependencies that the samples do not bring. */
    private static List<String> storeClassPath() {
        return Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(entry -> entry.contains("autocert-store-") || entry.contains("/stores/") || entry.contains("postgresql-"))
                .collect(Collectors.toList());
    }

    private static Path jar(Path target, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> p.getFileName().toString().startsWith(prefix) && p.toString().endsWith(".jar")
                    && !p.toString().endsWith("-sources.jar") && !p.toString().endsWith(".original")).findFirst()
                    .orElseThrow(() -> new IOException("No " + prefix + "*.jar in " + target + ": build the samples first (mvn install)"));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    Kind kind() {
        return kind;
    }

    int httpPort() {
        return httpPort;
    }

    int httpsPort() {
        return httpsPort;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** What the process printed so far. */
    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** {@code kill -9}: the process gets no chance to release anything. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(15, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public String toString() {
        return kind + " node (HTTP-01 on " + httpPort + ", HTTPS on " + httpsPort + ")";
    }

    static Duration startTimeout() {
        return Duration.ofSeconds(60);
    }
}
