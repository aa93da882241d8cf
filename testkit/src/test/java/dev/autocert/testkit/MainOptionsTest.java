package dev.autocert.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MainOptionsTest {

    @Test
    void parsesAllOptions() {
        MainOptions options = MainOptions.parse("--http-port", "5002", "--validity", "300", "--state-file", "s.properties");

        assertEquals(5002, options.httpPort());
        assertEquals(Duration.ofSeconds(300), options.validity());
        assertEquals(Path.of("s.properties"), options.stateFile());
        assertFalse(options.help());
    }

    @Test
    void defaultsToNothing() {
        MainOptions options = MainOptions.parse();

        assertEquals(0, options.httpPort());
        assertNull(options.validity());
        assertNull(options.stateFile());
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> MainOptions.parse("--http-port"));
        assertThrows(IllegalArgumentException.class, () -> MainOptions.parse("--http-port", "70000"));
        assertThrows(IllegalArgumentException.class, () -> MainOptions.parse("--validity", "soon"));
        assertThrows(IllegalArgumentException.class, () -> MainOptions.parse("--verbose"));
        assertTrue(MainOptions.parse("--help").help());
    }
}
