package dev.autocert.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RenewalPolicyTest {

    private static final Instant ISSUED = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void renewsWhenOneThirdOfLifetimeRemains() {
        Instant notAfter = ISSUED.plus(Duration.ofDays(90));
        var decision = RenewalPolicy.decide(ISSUED, notAfter, Optional.empty());
        assertEquals(ISSUED.plus(Duration.ofDays(60)), decision.due());
        assertEquals(RenewalPolicy.Reason.LIFETIME_RATIO, decision.reason());
        assertFalse(decision.isDue(ISSUED.plus(Duration.ofDays(59))));
        assertTrue(decision.isDue(ISSUED.plus(Duration.ofDays(60))));
    }

    @Test
    void renewsShortLivedCertificatesAtHalfLife() {
        Instant notAfter = ISSUED.plus(Duration.ofDays(6));
        assertEquals(ISSUED.plus(Duration.ofDays(3)), RenewalPolicy.decide(ISSUED, notAfter, Optional.empty()).due());
        Instant tenDays = ISSUED.plus(Duration.ofDays(10));
        assertEquals(tenDays.minus(Duration.ofDays(10).dividedBy(3)), RenewalPolicy.decide(ISSUED, tenDays, Optional.empty()).due(),
                "exactly ten days is not short");
    }

    @Test
    void followsTheAriWindowWhenTheCaOffersIt() {
        Instant notAfter = ISSUED.plus(Duration.ofDays(90));
        Instant choice = ISSUED.plus(Duration.ofDays(45));
        var decision = RenewalPolicy.decide(ISSUED, notAfter, Optional.of(choice));
        assertEquals(choice, decision.due());
        assertEquals(RenewalPolicy.Reason.ARI_WINDOW, decision.reason());
    }

    @Test
    void ignoresAriInAnEmergency() {
        Instant notAfter = ISSUED.plus(Duration.ofDays(100));
        Instant lateChoice = notAfter.minus(Duration.ofDays(1)); // a window past the last twentieth
        var decision = RenewalPolicy.decide(ISSUED, notAfter, Optional.of(lateChoice));
        assertEquals(notAfter.minus(Duration.ofDays(5)), decision.due());
        assertEquals(RenewalPolicy.Reason.EMERGENCY, decision.reason());
    }

    @Test
    void picksAMomentInsideTheAriWindow() {
        var window = new RenewalPolicy.AriWindow(ISSUED, ISSUED.plus(Duration.ofHours(10)));
        Random random = new Random(42);
        for (int i = 0; i < 100; i++) {
            Instant pick = window.pick(random);
            assertFalse(pick.isBefore(window.start()));
            assertTrue(pick.isBefore(window.end()));
        }
        var inverted = new RenewalPolicy.AriWindow(ISSUED, ISSUED.minusSeconds(5));
        assertEquals(ISSUED, inverted.pick(random));
    }

    @Test
    void isExpiringInTheLastTenthOfTheLifetime() {
        Instant notAfter = ISSUED.plus(Duration.ofDays(100));
        assertFalse(RenewalPolicy.isExpiring(ISSUED, notAfter, ISSUED.plus(Duration.ofDays(89))));
        assertTrue(RenewalPolicy.isExpiring(ISSUED, notAfter, ISSUED.plus(Duration.ofDays(90))));
    }
}
