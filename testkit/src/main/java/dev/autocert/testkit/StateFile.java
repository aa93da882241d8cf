package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the state file of {@link PebbleServer#main(String[])}: {@code key=value} lines that both
 * {@link java.util.Properties} and a shell script ({@code grep '^directory=' | cut -d= -f2-}) can
 * read.
 *
 * <p>Values are written verbatim rather than with {@code Properties} escaping, which would turn
 * {@code https://} into {@code https\://}; they are URLs, paths and numbers without line breaks
 * or backslashes.
 */
final class StateFile {

    private static final Logger LOG = LoggerFactory.getLogger(StateFile.class);

    private StateFile() {
    }

    /**
     * Replaces a state file atomically, so a reader never sees it half written.
     *
     * @param file the file to write
     * @param values the keys and values, in output order
     */
    static void write(Path file, Map<String, String> values) {
        StringBuilder text = new StringBuilder("# Pebble started by dev.autocert.testkit.PebbleServer\n");
        values.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        Path absolute = file.toAbsolutePath();
        try {
            Path temporary = Files.createTempFile(absolute.getParent(), absolute.getFileName().toString(), ".tmp");
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write the state file " + file, e);
        }
    }

    /**
     * Deletes a state file if it exists.
     *
     * @param file the file
     */
    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("Could not delete the state file {}", file, e);
        }
    }
}
