package dev.autocert.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import dev.autocert.core.DnsProvider.TxtRecord;
import dev.autocert.core.InvalidSettingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link DnsProvider} promises, checked for each provider of a hosted DNS API against a
 * fake of that API ({@link FakeApi}, started before each test as {@link #api}): two values at one
 * name coexist and each clean-up removes only its own; presenting or cleaning up twice changes
 * the records once; changes at one name at once lose nothing; a refusal names the provider and
 * the API's words but never a secret; a name in no zone, missing credentials and a base URL that
 * is no URL are refused with what to fix; and the provider is registered with lego's defaults.
 *
 * <p>A provider's test class extends this, names its factory in the constructor, plays its API on
 * {@link #api} in its own {@code @BeforeEach}, and answers the hooks below; its own tests cover
 * what is particular to its API, with the assertions below.
 */
abstract class HostedProviderContract {

    /** DNS-01 values: A and B as a wildcard and its apex get them at one name, C and D for more at once. */
    static final String VALUE_A = "a".repeat(43);
    static final String VALUE_B = "b".repeat(43);
    static final String VALUE_C = "c".repeat(43);
    static final String VALUE_D = "d".repeat(43);

    private final DnsProviderFactory factory;
    private final Registration registration;
    private final String baseUrlSetting;

    /** The fake API, running for the length of one test. */
    FakeApi api;

    /**
     * @param factory        the factory under test, as the service loader makes it
     * @param baseUrlSetting the setting in {@link #credentials()} that points the provider at the fake API
     * @param registration   what the factory is registered as, and lego's defaults for it
     */
    HostedProviderContract(DnsProviderFactory factory, String baseUrlSetting, Registration registration) {
        this.factory = factory;
        this.registration = registration;
        this.baseUrlSetting = baseUrlSetting;
    }

    @BeforeEach
    void startTheFakeApi() throws Exception {
        api = FakeApi.start();
    }

    @AfterEach
    void stopTheFakeApi() {
        api.close();
    }

    /** {@return the factory under test} */
    final DnsProviderFactory factory() {
        return factory;
    }

    /** {@return credentials the fake API takes, its base URL among them} */
    abstract Map<String, String> credentials() throws Exception;

    /** {@return a provider made from {@code credentials}; by default by the factory} */
    DnsProvider provider(Map<String, String> credentials) throws Exception {
        return factory.create(DnsCredentials.of(registration.name(), credentials));
    }

    /** {@return a provider made from {@link #credentials()}} */
    final DnsProvider provider() throws Exception {
        return provider(credentials());
    }

    /** {@return the name the contract's records have} */
    String name() {
        return "_acme-challenge.example.com.";
    }

    /** {@return the TTL the contract's records have: lego's default for the provider} */
    final int ttl() {
        return registration.ttl();
    }

    /** {@return a record of the contract's name and TTL with {@code value}} */
    final TxtRecord record(String value) {
        return new TxtRecord(name(), value, ttl());
    }

    /**
     * {@return the values the fake holds at {@link #name()}, without quotes, oldest first; empty
     * when it holds none} An implementation also checks the form the API keeps them in.
     */
    abstract List<String> values() throws Exception;

    /** {@return how many changes to records the fake was asked for so far: creations, writes and deletions} */
    abstract int writes();

    /**
     * Makes the fake refuse what comes next, as it refuses wrong credentials.
     *
     * @return the provider to try, and what its failure must and must not say
     */
    abstract Refusal refusal() throws Exception;

    /** {@return a name in no zone of the fake's account} */
    String nameInNoZone() {
        return "_acme-challenge.example.org.";
    }

    /** {@return what the failure for {@link #nameInNoZone()} says beside the name: the zones tried or seen, the fix} */
    abstract List<String> noZoneSays();

    /** {@return credentials that each lack something, with the INI keys and variables the failure must name} */
    abstract List<Missing> missingCredentials();

    /**
     * What a refusal must say.
     *
     * @param provider the provider to try
     * @param said     what the message must contain: the status, the API's words
     * @param unsaid   what it must not contain: secrets
     */
    record Refusal(DnsProvider provider, List<String> said, List<String> unsaid) {
    }

    /**
     * Credentials that lack something.
     *
     * @param credentials the credentials
     * @param named       the INI keys and variables the failure must name
     */
    record Missing(Map<String, String> credentials, String... named) {
    }

    /** The factory's name and lego's prefix and defaults. */
    record Registration(String name, String variablePrefix, Duration propagationTimeout, Duration pollingInterval, int ttl) {
    }

    @Test
    void twoValuesAtOneNameCoexistAndEachCleanUpRemovesOnlyItsOwn() throws Exception {
        DnsProvider provider = provider();
        provider.present(record(VALUE_A));
        provider.present(record(VALUE_B));
        assertEquals(List.of(VALUE_A, VALUE_B), values());

        provider.cleanUp(record(VALUE_A));
        assertEquals(List.of(VALUE_B), values());
        provider.cleanUp(record(VALUE_B));
        assertEquals(List.of(), values());
        assertTrue(api.failures().isEmpty(), () -> "the fake failed: " + api.failures());
    }

    @Test
    void presentingOrCleaningUpTwiceChangesTheRecordsOnce() throws Exception {
        provider().present(record(VALUE_A));
        provider().present(record(VALUE_A));
        assertEquals(1, writes());
        assertEquals(List.of(VALUE_A), values());

        provider().cleanUp(record(VALUE_A));
        provider().cleanUp(record(VALUE_A));
        assertEquals(2, writes());
        assertEquals(List.of(), values());
    }

    @Test
    void concurrentChangesAtOneNameLoseNoValueAndAddNoneTwice() throws Exception {
        // two of them twice, as a retried order would
        inParallel(List.of(VALUE_A, VALUE_B, VALUE_C, VALUE_D, VALUE_A, VALUE_B), value -> provider().present(record(value)));
        assertEquals(List.of(VALUE_A, VALUE_B, VALUE_C, VALUE_D), values().stream().sorted().toList());
        assertEquals(4, writes());

        inParallel(List.of(VALUE_A, VALUE_B, VALUE_C), value -> provider().cleanUp(record(value)));
        assertEquals(List.of(VALUE_D), values());
    }

    @Test
    void aRefusalNamesTheProviderAndTheApisWordsButNoSecret() throws Exception {
        Refusal refusal = refusal();
        AutocertException e = assertThrows(AutocertException.class, () -> refusal.provider().present(record(VALUE_A)));
        assertTrue(e.getMessage().startsWith("DNS-01 through " + registration.name() + ": "), e.getMessage());
        assertNames(e, refusal.said());
        for (String secret : refusal.unsaid()) {
            assertFalse(e.getMessage().contains(secret), e.getMessage());
        }
    }

    @Test
    void aNameInNoZoneOfTheAccountIsRefusedNamingIt() throws Exception {
        TxtRecord elsewhere = new TxtRecord(nameInNoZone(), VALUE_A, ttl());
        assertNames(assertPresentFails(elsewhere, elsewhere.name()), noZoneSays());
    }

    @Test
    void missingCredentialsNameTheIniKeyAndTheLegoVariable() {
        for (Missing missing : missingCredentials()) {
            InvalidSettingException e = assertThrows(InvalidSettingException.class,
                    () -> factory.create(DnsCredentials.of(registration.name(), missing.credentials())));
            assertNames(e, List.of(missing.named()));
        }
    }

    @Test
    void aBaseUrlThatIsNoUrlIsRefusedNamingItsSetting() throws Exception {
        Map<String, String> credentials = new HashMap<>(credentials());
        credentials.put(baseUrlSetting, "api.local");
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> provider(credentials));
        assertNames(e, List.of(baseUrlSetting, "api.local"));
    }

    @Test
    void isRegisteredWithLegosDefaults() {
        DnsProviderFactory found = DnsSolverFactory.find(registration.name()).orElseThrow();
        assertEquals(factory.getClass(), found.getClass());
        assertEquals(registration, new Registration(found.name(), found.variablePrefix(), found.propagationTimeout(),
                found.pollingInterval(), found.ttl()));
    }

    /**
     * Presents {@code record} with a new provider and asserts that it fails naming this provider,
     * and each of {@code said}. {@return the failure}
     */
    final AutocertException assertPresentFails(TxtRecord record, String... said) throws Exception {
        DnsProvider provider = provider();
        AutocertException e = assertThrows(AutocertException.class, () -> provider.present(record));
        assertTrue(e.getMessage().startsWith("DNS-01 through " + registration.name() + ": "), e.getMessage());
        assertNames(e, List.of(said));
        return e;
    }

    /**
     * Asserts that present finds {@link #VALUE_A} on the third page of the record list (where the
     * test put it), reading pages 1 to 3 ({@code GET} requests to {@code listPath}) and creating
     * nothing, and that clean-up removes it from there.
     */
    final void assertTheThirdPageIsRead(String listPath) throws Exception {
        DnsProvider provider = provider();
        provider.present(record(VALUE_A));
        assertEquals(0, writes(), "the value on the third page was not seen");
        assertEquals(List.of(1, 2, 3), api.requests("GET", listPath).stream().map(r -> r.intParam("page", 1)).toList());
        provider.cleanUp(record(VALUE_A));
        assertFalse(values().contains(VALUE_A));
    }

    /** Asserts that every request the fake received carried {@code header: value}, and that the fake knew each. */
    final void assertEveryRequestCarries(String header, String value) {
        assertTrue(api.requests().stream().allMatch(r -> value.equals(r.header(header))), () -> "without " + header + ": "
                + api.requests().stream().filter(r -> !value.equals(r.header(header))).toList());
        assertTrue(api.unrouted().isEmpty(), () -> "unexpected requests: " + api.unrouted());
    }

    /** Asserts that {@code e}'s message contains each of {@code names}. */
    static void assertNames(Exception e, List<String> names) {
        for (String name : names) {
            assertTrue(e.getMessage().contains(name), () -> "'" + name + "' is not named: " + e.getMessage());
        }
    }

    /** A change to try at once with others. */
    @FunctionalInterface
    interface Change {
        void apply(String value) throws Exception;
    }

    /** Applies {@code change} to each of {@code values} at once, on as many threads, and waits for all. */
    static void inParallel(List<String> values, Change change) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(values.size());
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (String value : values) {
                futures.add(pool.submit(() -> {
                    change.apply(value);
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
