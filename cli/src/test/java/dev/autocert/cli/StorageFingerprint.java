package dev.autocert.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Every entry of a storage directory, for checking that a command left it byte for byte as it
 * was: each file's SHA-256 and mode, each directory's mode, each symbolic link's target, hidden
 * entries included, links not followed.
 */
final class StorageFingerprint {

    private StorageFingerprint() {
    }

    /** Relative path to a description of the entry; empty when {@code directory} does not exist. */
    static Map<String, String> of(Path directory) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            return entries;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.toList()) {
                String name = directory.relativize(path).toString();
                if (Files.isSymbolicLink(path)) {
                    entries.put(name, "link -> " + Files.readSymbolicLink(path));
                    continue;
                }
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
                entries.put(name, Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? "dir " + mode
                        : "file " + mode + " " + sha256(Files.readAllBytes(path)));
            }
        }
        return entries;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
