package dev.autocert.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A second process for {@link FileStorageTest}: {@code hold} takes a lock and keeps it until
 * killed; {@code hammer} takes and releases a lock for a while, and inside each hold creates a
 * marker file exclusively, counting an overlap whenever the marker is already there (the other
 * process inside too).
 */
public final class LockHammer {

    record Result(int entries, int overlaps, int busy) {
    }

    public static void main(String[] args) throws Exception {
        FileStorage storage = new FileStorage(Path.of(args[0]));
        String mode = args[1];
        String name = args[2];
        long millis = Long.parseLong(args[3]);
        if (mode.equals("hold")) {
            Storage.Lock lock = storage.tryLock(name, Duration.ofMinutes(2)).orElseThrow();
            System.out.println("held");
            System.out.flush();
            Thread.sleep(millis);
            lock.close();
            return;
        }
        Path inside = Path.of(args[0]).resolve("inside");
        // Both processes start hammering at the same wall-clock moment, whatever their JVMs' start-up took.
        long startAt = Long.parseLong(args[4]);
        Thread.sleep(Math.max(0, startAt - System.currentTimeMillis()));
        int entries = 0;
        int overlaps = 0;
        int busy = 0;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            Optional<Storage.Lock> lock = storage.tryLock(name, Duration.ofMinutes(1));
            if (lock.isEmpty()) {
                busy++;
                Thread.onSpinWait();
                continue;
            }
            try (Storage.Lock held = lock.get()) {
                entries++;
                try {
                    Files.createFile(inside);
                } catch (FileAlreadyExistsException e) {
                    overlaps++;
                }
                Thread.sleep(1);
                Files.deleteIfExists(inside);
            }
        }
        System.out.println("entries=" + entries + " overlaps=" + overlaps + " busy=" + busy);
    }

    static Process start(Path dir, String mode, String name, long millis) throws IOException {
        return start(dir, mode, name, millis, 0);
    }

    /** Starts a process that begins at {@code startAt} (epoch milliseconds). */
    static Process start(Path dir, String mode, String name, long millis, long startAt) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LockHammer.class.getName(), dir.toString(), mode, name, Long.toString(millis),
                Long.toString(startAt)).redirectErrorStream(true).start();
    }

    static void awaitLine(Process process, String expected) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = reader.readLine()) != null; ) {
            if (line.equals(expected)) {
                return;
            }
        }
        throw new IOException("The lock holder ended without printing '" + expected + "'");
    }

    static Result result(Process process) throws Exception {
        List<String> lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).lines().toList();
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("The hammering process failed: " + lines);
        }
        String last = lines.get(lines.size() - 1);
        String[] parts = last.split("[ =]");
        return new Result(Integer.parseInt(parts[1]), Integer.parseInt(parts[3]), Integer.parseInt(parts[5]));
    }

    private LockHammer() {
    }
}
