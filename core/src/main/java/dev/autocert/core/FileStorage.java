package dev.autocert.core;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.nio.file.FileVisitOption;
import java.nio.file.LinkOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Storage} in a directory: one file per key, the layout described in
 * {@code docs/storage.md}. The default store. Thread-safe, and safe for several processes
 * sharing the directory (on a local or a POSIX-compliant network file system).
 *
 * <p>Writes go to a temporary file in the same directory, are forced to disk, then renamed over
 * the old file, and the directory is forced too, so a crash never leaves a half-written value.
 * Files are created {@code 0600} and directories {@code 0700} (on POSIX file systems): the store
 * holds private keys.
 *
 * <p>A set of values ({@link #storeSet}, used for {@code live/NAME}) is a hidden directory of
 * files and a symbolic link {@code NAME} to it; a new set is written whole beside it and the link
 * is renamed over the old one, so a reader of {@code live/NAME/privkey.pem} and
 * {@code live/NAME/fullchain.pem} finds one matching pair whenever it looks.
 *
 * <p>A lock is a kernel lock ({@code fcntl}) on a file under {@code locks/}: exclusive between
 * processes and, through a table of the locks this JVM holds, between threads; released by the
 * system the moment its holder dies. On a network file system this needs working POSIX locks
 * shared by every host (NFSv4, or NFSv3 with {@code lockd}; not a {@code nolock} mount):
 * {@code docs/storage.md} says more.
 *
 * <p>Every change made through this class, by any process, rewrites the hidden file {@code
 * .changes} at the top, which {@link #changeMarker()} reads: a process following the directory
 * reads one small file a second, not every certificate's. Files changed by hand mark nothing, so
 * the marker also turns over once a minute, and followers then read the directory all the same.
 */
public final class FileStorage implements Storage {

    private static final Logger LOG = LoggerFactory.getLogger(FileStorage.class);
    private static final String LOCKS = "locks";
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    /** The file each change rewrites, for {@link #changeMarker()}; hidden, as every name starting with a dot. */
    private static final String CHANGES = ".changes";
    /** How often the marker turns over with no change marked, so that changes made by hand are read too. */
    static final Duration UNMARKED_CHANGES = Duration.ofMinutes(1);

    /** The lock files this JVM holds a kernel lock on, by real path. */
    private static final Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Channels that must stay open, because closing them would release a lock held through another. */
    private static final Set<FileChannel> ABANDONED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Path root;
    private final boolean posix;
    private final Clock clock;
    private final java.util.concurrent.atomic.AtomicBoolean markFailureLogged = new java.util.concurrent.atomic.AtomicBoolean();

    /** A store in {@code directory}, created (0700) when missing. */
    public FileStorage(Path directory) {
        this(directory, Clock.systemUTC());
    }

    FileStorage(Path directory, Clock clock) {
        this.root = requireNonNull(directory, "directory").toAbsolutePath().normalize();
        this.clock = requireNonNull(clock, "clock");
        this.posix = root.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** The directory this store keeps its files in. */
    public Path directory() {
        return root;
    }

    @Override
    public Optional<byte[]> load(String key) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(path(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public void store(String key, byte[] value) throws IOException {
        requireNonNull(value, "value");
        Path target = path(key);
        Path dir = target.getParent();
        createDirectories(dir);
        if (posix && !dir.equals(root)) {
            tighten(dir, true); // never a private key in a directory others can read
        }
        Path temp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            writeDurably(temp, value);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            forceDirectory(dir);
        } finally {
            Files.deleteIfExists(temp);
        }
        markChanged();
    }

    @Override
    public void storeSet(String prefix, Map<String, byte[]> values) throws IOException {
        Path link = path(prefix);
        Path parent = link.getParent();
        createDirectories(parent);
        String base = "." + link.getFileName();
        Path set = parent.resolve(base + ".set-" + UUID.randomUUID());
        createDirectory(set);
        for (Map.Entry<String, byte[]> entry : values.entrySet()) {
            Path file = set.resolve(StorageKeys.check(entry.getKey()));
            if (!file.getParent().equals(set)) {
                throw new IllegalArgumentException("A set's names are single segments: " + entry.getKey());
            }
            writeDurably(file, entry.getValue());
        }
        forceDirectory(set);
        Path previous = Files.isSymbolicLink(link) ? parent.resolve(Files.readSymbolicLink(link)).normalize() : null;
        if (Files.isDirectory(link, LinkOption.NOFOLLOW_LINKS)) {
            // Written by an older version as a plain directory: move it aside once.
            Path aside = parent.resolve(base + ".old-" + UUID.randomUUID());
            Files.move(link, aside, StandardCopyOption.ATOMIC_MOVE);
            previous = aside;
        }
        Path newLink = parent.resolve(base + ".link-" + UUID.randomUUID());
        Files.createSymbolicLink(newLink, set.getFileName());
        Files.move(newLink, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try {
            forceDirectory(parent);
            if (previous != null && previous.startsWith(parent) && !previous.equals(set)) {
                deleteTree(previous);
            }
        } finally {
            markChanged(); // the new set is in place, whatever the clean-up did
        }
    }

    /**
     * Creates the directory, tightens it and every directory below it to {@code 0700} where they
     * are looser, and proves it can be written.
     */
    @Override
    public void open() throws IOException {
        try {
            createDirectories(root);
        } catch (IOException e) {
            throw new IOException("cannot create " + root + ": " + osError(e), e);
        }
        if (!Files.isDirectory(root)) {
            throw new IOException(root + " is not a directory");
        }
        if (posix) {
            int tightened = tightenAll();
            if (tightened > 0) {
                LOG.info("Tightened {} director{} in {} to rwx------: they hold private keys", tightened,
                        tightened == 1 ? "y" : "ies", root);
            }
        }
        Path probe = root.resolve(".write-test-" + UUID.randomUUID());
        try {
            writeDurably(probe, new byte[0]);
        } catch (IOException e) {
            throw new IOException("cannot write in " + root + ": " + osError(e), e);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    /**
     * Tightens every directory of the store ({@link #tighten}); what another process removes
     * meanwhile (its temporary files, a set it replaced) is passed over.
     *
     * @return how many were tightened
     */
    private int tightenAll() throws IOException {
        int[] tightened = {0};
        Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult preVisitDirectory(Path dir, java.nio.file.attribute.BasicFileAttributes attributes)
                    throws IOException {
                try {
                    tightened[0] += tighten(dir, false) ? 1 : 0;
                } catch (NoSuchFileException e) {
                    return java.nio.file.FileVisitResult.SKIP_SUBTREE;
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        return tightened[0];
    }

    /** Makes {@code dir} {@code 0700} if it is looser; reports whether it was. */
    private boolean tighten(Path dir, boolean log) throws IOException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (mode.equals(DIR_MODE)) {
            return false;
        }
        try {
            Files.setPosixFilePermissions(dir, DIR_MODE);
            if (log) {
                LOG.info("Tightened {} from {} to rwx------: it holds private keys", dir, PosixFilePermissions.toString(mode));
            }
            return true;
        } catch (IOException e) {
            throw new IOException(dir + " is " + PosixFilePermissions.toString(mode) + " and cannot be tightened ("
                    + osError(e) + "); it holds private keys: run chmod 700 " + dir + " as its owner", e);
        }
    }

    private static String osError(IOException e) {
        String reason = e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null ? fs.getReason() : null;
        return reason != null ? reason : e.getClass().getSimpleName().replace("Exception", "") + " " + e.getMessage();
    }

    @Override
    public boolean delete(String key) throws IOException {
        Path target = path(key);
        boolean existed = Files.deleteIfExists(target);
        try {
            removeEmptyParents(target);
        } finally {
            if (existed) {
                markChanged(); // the value is gone, whatever the clean-up did
            }
        }
        return existed;
    }

    /** Removes the directories {@code target} leaves empty, up to the root, so listings stay clean. */
    private void removeEmptyParents(Path target) throws IOException {
        for (Path dir = target.getParent(); dir != null && !dir.equals(root); dir = dir.getParent()) {
            if (Files.isSymbolicLink(dir)) {
                // A set (live/NAME): its link stays while it holds values, and goes, with the
                // set's directory, when the last one is deleted.
                Path set = dir.getParent().resolve(Files.readSymbolicLink(dir)).normalize();
                if (!set.startsWith(dir.getParent()) || !isEmptyDirectory(set)) {
                    break;
                }
                Files.delete(dir);
                Files.deleteIfExists(set);
                continue;
            }
            try {
                Files.delete(dir);
            } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                break;
            }
        }
    }

    /**
     * What {@code .changes} holds (new at every change made through a {@code FileStorage}, by
     * any process) and the current minute, so that followers read the directory at least once a
     * minute for changes made by hand. One small file read.
     */
    @Override
    public Optional<String> changeMarker() throws IOException {
        String marked;
        try {
            marked = Files.readString(root.resolve(CHANGES), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            marked = "";
        }
        return Optional.of(marked + "@" + clock.millis() / UNMARKED_CHANGES.toMillis());
    }

    /**
     * Rewrites {@code .changes} with a new random value, atomically. Not forced to disk: after a
     * crash every follower starts by reading everything anyway. A failure is logged, not thrown:
     * the value was stored, and followers see it within {@link #UNMARKED_CHANGES} all the same.
     */
    private void markChanged() {
        Path temp = root.resolve(CHANGES + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    fileMode())) {
                channel.write(ByteBuffer.wrap(UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8)));
            }
            setFileMode(temp);
            try {
                Files.move(temp, root.resolve(CHANGES), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, root.resolve(CHANGES), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            if (markFailureLogged.compareAndSet(false, true)) {
                LOG.warn("Cannot write {}; other processes following this directory see changes within {} instead of a second "
                        + "(logged once): {}", root.resolve(CHANGES), UNMARKED_CHANGES, osError(e));
            } else {
                LOG.debug("Cannot write {}: {}", root.resolve(CHANGES), e.toString());
            }
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // a hidden temporary file, never read
            }
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (NoSuchFileException e) {
            return true;
        }
    }

    private void writeDurably(Path file, byte[] value) throws IOException {
        try (FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), fileMode())) {
            ByteBuffer buffer = ByteBuffer.wrap(value);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        setFileMode(file); // not narrowed by the umask, nor widened
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        Path dir = path(prefix);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> !hidden(root.relativize(p)))
                    .map(p -> root.relativize(p).toString().replace('\\', '/'))
                    .sorted()
                    .toList();
        }
    }

    /**
     * Takes a kernel lock ({@code fcntl}) on {@code locks/NAME.lock}: the system releases it when
     * its process dies, however it dies, so there is no lease to run out and no clock to compare;
     * {@code lease} is not used. The file is never deleted (a new file would be a second lock);
     * the holder writes its process and host into it for operators.
     */
    @Override
    public Optional<Lock> tryLock(String name, Duration lease) throws IOException {
        requireNonNull(lease, "lease");
        Path file = lockPath(LOCKS + "/" + Storage.checkKey(name) + ".lock");
        createDirectories(file.getParent());
        // One JVM-wide identity per file: the kernel's locks belong to the process, and closing
        // any channel on a locked file would release the process's lock on it.
        Path identity = file.getParent().toRealPath().resolve(file.getFileName());
        if (!HELD.add(identity)) {
            return Optional.empty();
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
                    fileMode());
            java.nio.channels.FileLock kernelLock;
            try {
                kernelLock = channel.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                // This JVM holds the file locked through another path to it (a bind mount, a
                // second name): held. The channel is kept open, as closing it would release that lock.
                ABANDONED.add(channel);
                HELD.remove(identity);
                return Optional.empty();
            }
            if (kernelLock == null) {
                channel.close();
                HELD.remove(identity);
                return Optional.empty();
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(("pid=" + ProcessHandle.current().pid() + "\nhost=" + hostName() + "\nsince="
                    + clock.instant() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            return Optional.of(new FileLock(name, identity, channel, kernelLock));
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            HELD.remove(identity);
            throw e;
        }
    }

    /** Whether a segment of {@code relative} starts with a dot: temporary files, a set's versions. */
    private static boolean hidden(Path relative) {
        for (Path segment : relative) {
            if (segment.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /**
     * The file of {@code key}. Keys under {@code locks/} are refused: the lock files are the
     * kernel locks' own, and opening or replacing one would release a lock this process holds.
     */
    private Path path(String key) {
        if (key != null && (key.equals(LOCKS) || key.startsWith(LOCKS + "/"))) {
            throw new IllegalArgumentException("Storage key '" + key + "' is under locks/, which holds this store's lock files");
        }
        return lockPath(key);
    }

    private Path lockPath(String key) {
        Path path = root.resolve(Storage.checkKey(key)).normalize();
        if (!path.startsWith(root)) {
            throw new IllegalArgumentException("Storage key escapes the store: " + key);
        }
        return path;
    }

    private void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        createDirectories(dir.getParent());
        createDirectory(dir);
    }

    private void createDirectory(Path dir) throws IOException {
        try {
            if (posix) {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
                Files.setPosixFilePermissions(dir, DIR_MODE); // not narrowed by the umask
            } else {
                Files.createDirectory(dir);
            }
        } catch (FileAlreadyExistsException e) {
            // created by another thread or process meanwhile
        }
    }

    private FileAttribute<?>[] fileMode() {
        return posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE_MODE)} : new FileAttribute<?>[0];
    }

    private void setFileMode(Path file) throws IOException {
        if (posix) {
            Files.setPosixFilePermissions(file, FILE_MODE);
        }
    }

    private static void forceDirectory(Path dir) {
        // Makes the rename durable. Linux allows fsync on a directory opened for reading; other
        // systems may not, and there the rename is as durable as the platform makes it.
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            LOG.trace("Cannot fsync directory {}", dir, e);
        }
    }

    @Override
    public String toString() {
        return "FileStorage[" + root + "]";
    }

    /** A held kernel lock; the channel stays open until it is released. */
    private static final class FileLock implements Lock {
        private final String name;
        private final Path identity;
        private final FileChannel channel;
        private final java.nio.channels.FileLock kernelLock;
        private boolean open = true;

        FileLock(String name, Path identity, FileChannel channel, java.nio.channels.FileLock kernelLock) {
            this.name = name;
            this.identity = identity;
            this.channel = channel;
            this.kernelLock = kernelLock;
        }

        @Override
        public synchronized void ensureHeld() throws LockLostException {
            if (!open || !kernelLock.isValid()) {
                throw new LockLostException("Lock " + name + " is no longer held: it was released");
            }
        }

        @Override
        public synchronized void close() throws IOException {
            if (!open) {
                return;
            }
            open = false;
            try {
                channel.close(); // releases the kernel lock
            } finally {
                HELD.remove(identity);
            }
        }

        @Override
        public String toString() {
            return "FileLock[" + name + "]";
        }
    }
}
