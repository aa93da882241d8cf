package dev.autocert.dns;

import dev.autocert.core.AutocertException;
import dev.autocert.core.DnsProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiPredicate;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * A provider whose API keeps one record per TXT value (Cloudflare, DigitalOcean, Linode,
 * DNSimple, Porkbun, OVH), so values at one name never touch one another: present lists the TXT
 * records at the name and creates one only when its value is missing; clean up deletes the
 * records holding its value and no other. A subclass translates those four calls into its API.
 *
 * <p>Thread-safe when the subclass is; changes to one name are serialised within the process,
 * as listing then creating twice at once would add the value twice.
 *
 * @param <Z> what the API knows the zone by: its name, an id, or both
 */
abstract class RecordPerValueProvider<Z> implements DnsProvider {

    private static final NameLocks LOCKS = new NameLocks();

    @Override
    public final void present(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            Z zone = zone(record);
            if (find(zone, record).isEmpty()) {
                create(zone, record);
                changed(zone);
            }
        }
    }

    @Override
    public final void cleanUp(TxtRecord record) throws AutocertException {
        synchronized (LOCKS.of(record.name())) {
            Z zone = zone(record);
            List<String> ids = find(zone, record);
            for (String id : ids) {
                delete(zone, id, record);
            }
            if (!ids.isEmpty()) {
                changed(zone);
            }
        }
    }

    /** {@return the zone holding the record} */
    abstract Z zone(TxtRecord record) throws AutocertException;

    /** {@return the ids of the TXT records at the record's name that hold its value, none when there are none} */
    abstract List<String> find(Z zone, TxtRecord record) throws AutocertException;

    /** Creates a TXT record with the record's name, value and TTL. */
    abstract void create(Z zone, TxtRecord record) throws AutocertException;

    /** Deletes the record {@code id}; one that is gone already is no failure. */
    abstract void delete(Z zone, String id, TxtRecord record) throws AutocertException;

    /** Called after records of the zone were created or deleted; does nothing unless the API wants the change applied. */
    void changed(Z zone) throws AutocertException {
    }

    static String adding(TxtRecord record) {
        return "adding the TXT record " + record.name();
    }

    static String removing(TxtRecord record) {
        return "removing the TXT record " + record.name();
    }

    static String listing(TxtRecord record) {
        return "listing the TXT records at " + record.name();
    }

    /**
     * The ids of those of {@code records} (JSON objects with {@code id}, {@code type} and {@code
     * name}) that are TXT records named one of {@code names} (in any case) whose {@code valueField},
     * without quotes, is the record's value.
     */
    static List<String> idsHolding(Iterable<JSON.Value> records, String valueField, TxtRecord record, String... names) {
        List<String> ids = new ArrayList<>();
        for (JSON.Value value : records) {
            JSON r = value.asObject();
            String name = r.get("name").optional().map(JSON.Value::asString).orElse("");
            if (r.get("type").asString().equals("TXT") && Arrays.stream(names).anyMatch(name::equalsIgnoreCase)
                    && TxtValues.unquote(r.get(valueField).asString()).equals(record.value())) {
                ids.add(r.get("id").asString());
            }
        }
        return ids;
    }

    /** Reads one page of a list. */
    @FunctionalInterface
    interface Page {

        /** {@return page {@code number} of the list, counted from 1} */
        JSON read(int number) throws AutocertException;
    }

    /**
     * Every entry of a paged list: the array {@code field} of page 1, 2, … while {@code more}
     * says another page follows the one just read.
     */
    static List<JSON.Value> everyPage(Page page, String field, BiPredicate<JSON, Integer> more) throws AutocertException {
        List<JSON.Value> entries = new ArrayList<>();
        for (int number = 1; ; number++) {
            JSON answer = page.read(number);
            answer.get(field).asArray().forEach(entries::add);
            if (!more.test(answer, number)) {
                return entries;
            }
        }
    }

    /**
     * For {@link #everyPage}: whether the page just read is before the last, whose number the
     * answer gives at {@code path}, such as {@code result_info.total_pages} (one page when it does not).
     */
    static BiPredicate<JSON, Integer> beforeLastPage(String... path) {
        return (answer, page) -> {
            JSON json = answer;
            for (int i = 0; i < path.length - 1; i++) {
                if (!json.get(path[i]).isPresent()) {
                    return false;
                }
                json = json.get(path[i]).asObject();
            }
            return page < json.get(path[path.length - 1]).optional().map(JSON.Value::asInt).orElse(1);
        };
    }
}
