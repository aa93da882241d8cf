package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetryScheduleTest {

    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

    private static Duration wait(RetrySchedule schedule, int attempt, Random random) {
        return Duration.between(NOW, schedule.next(attempt, true, Optional.empty(), NOW, random));
    }

    @Test
    void climbsTheLadderAndRepeatsTheLastStep() {
        RetrySchedule schedule = RetrySchedule.of(List.of(Duration.ofMinutes(1), Duration.ofMinutes(10)), 0);
        Random random = new Random(1);
        assertEquals(Duration.ofMinutes(1), wait(schedule, 1, random));
        assertEquals(Duration.ofMinutes(10), wait(schedule, 2, random));
        assertEquals(Duration.ofMinutes(10), wait(schedule, 7, random));
    }

    @Test
    void defaultLadderGrowsFromAMinuteToHours() {
        assertEquals(List.of(Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofMinutes(100), Duration.ofHours(6)),
                RetrySchedule.defaults().steps());
    }

    @Test
    void jittersWithinItsBounds() {
        RetrySchedule schedule = RetrySchedule.defaults();
        Random random = new Random(7);
        long distinct = java.util.stream.IntStream.range(0, 50).mapToObj(i -> wait(schedule, 2, random)).distinct().count();
        assertTrue(distinct > 40, "jitter varies the wait");
        for (int i = 0; i < 200; i++) {
            Duration d = wait(schedule, 2, random);
            assertTrue(d.compareTo(Duration.ofMinutes(8)) >= 0 && d.compareTo(Duration.ofMinutes(12)) <= 0, d.toString());
        }
    }

    @Test
    void neverRetriesBeforeTheCasRetryAfter() {
        Instant retryAfter = NOW.plus(Duration.ofHours(3));
        assertEquals(retryAfter, RetrySchedule.defaults().next(1, true, Optional.of(retryAfter), NOW, new Random()));
    }

    @Test
    void waitsTheLongestStepForFailuresThatNeedAPerson() {
        RetrySchedule schedule = RetrySchedule.of(List.of(Duration.ofMinutes(1), Duration.ofHours(6)), 0);
        assertEquals(NOW.plus(Duration.ofHours(6)), schedule.next(1, false, Optional.empty(), NOW, new Random()));
    }

    @Test
    void refusesEmptyOrNonPositiveSteps() {
        assertThrows(IllegalArgumentException.class, () -> RetrySchedule.of(List.of(), 0.1));
        assertThrows(IllegalArgumentException.class, () -> RetrySchedule.of(List.of(Duration.ZERO), 0.1));
        assertThrows(IllegalArgumentException.class, () -> RetrySchedule.of(List.of(Duration.ofSeconds(1)), 1.0));
    }
}
