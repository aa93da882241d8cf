package dev.autocert.dns;

import dev.autocert.core.AutocertException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Finds the zone that holds a record's name the way most DNS APIs need it found: by asking about
 * each suffix of the name in turn, longest first ({@code _acme-challenge.www.example.com}, {@code
 * www.example.com}, {@code example.com}), until the API knows one; the answer is remembered per
 * name. The static helpers name a record within its zone. Thread-safe.
 *
 * @param <Z> what the provider knows a zone by: its name, an id, or both
 */
final class ZoneFinder<Z> {

    /** Asks the API about one suffix. */
    @FunctionalInterface
    interface Lookup<Z> {

        /** {@return the zone named {@code candidate} (without final dot), or empty when the account has none of that name} */
        Optional<Z> find(String candidate) throws AutocertException;
    }

    private final Map<String, Z> known = new ConcurrentHashMap<>();

    /**
     * The zone holding {@code name}, from what was found before or from {@code lookup}, asked
     * about each suffix of {@code name} that is not a top-level domain, longest first.
     *
     * @param name     the record's name, without final dot
     * @param notFound the failure when no suffix is a zone, given the suffixes tried
     */
    Z find(String name, Lookup<Z> lookup, Function<List<String>, AutocertException> notFound) throws AutocertException {
        Z zone = known.get(name);
        if (zone != null) {
            return zone;
        }
        List<String> candidates = candidates(name);
        for (String candidate : candidates) {
            Optional<Z> found = lookup.find(candidate);
            if (found.isPresent()) {
                known.put(name, found.get());
                return found.get();
            }
        }
        throw notFound.apply(candidates);
    }

    /**
     * The zones that may hold {@code name} (without final dot), longest first, down to the
     * top-level domain: {@code _acme-challenge.www.example.com}, {@code www.example.com},
     * {@code example.com}, {@code com}.
     */
    static List<String> suffixes(String name) {
        List<String> zones = new ArrayList<>();
        for (String zone = name; !zone.isEmpty(); zone = zone.indexOf('.') < 0 ? "" : zone.substring(zone.indexOf('.') + 1)) {
            zones.add(zone);
        }
        return zones;
    }

    /** {@link #suffixes} without the top-level domain, which no account holds. */
    static List<String> candidates(String name) {
        return suffixes(name).stream().filter(zone -> zone.indexOf('.') > 0).toList();
    }

    /**
     * The label(s) of {@code name} under {@code zone}, both without final dot: {@code _acme-challenge.www}
     * for {@code _acme-challenge.www.example.com} in {@code example.com}, empty at the apex.
     */
    static String relative(String name, String zone) {
        return name.equals(zone) ? "" : name.substring(0, name.length() - zone.length() - 1);
    }

    /** As {@link #relative}, with {@code apex} (such as {@code @}) standing for the zone itself. */
    static String relative(String name, String zone, String apex) {
        return name.equals(zone) ? apex : relative(name, zone);
    }
}
