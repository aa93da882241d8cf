package dev.autocert.cli;

import dev.autocert.core.KeyType;
import dev.autocert.core.StatusPage;
import dev.autocert.core.StoredCertificate;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What {@code autocert certificates} prints, from one list of {@link StoredCertificate}: a
 * Certbot-like listing for people (colour only on a terminal) or a JSON array for scripts. The
 * JSON field names are stable; docs/cli.md lists them.
 */
final class CertificateReport {

    /** Certbot's date form: {@code 2025-02-19 19:53:00+00:00}. */
    static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssxxx", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final List<String> FILES = List.of("cert", "chain", "fullchain", "privkey");

    private static final String RED = "\u001b[31m";
    private static final String YELLOW = "\u001b[33m";
    private static final String GREEN = "\u001b[32m";
    private static final String RESET = "\u001b[0m";

    private final List<StoredCertificate> certificates;
    private final String directory;
    private final Instant now;

    CertificateReport(List<StoredCertificate> certificates, String directory, Instant now) {
        this.certificates = List.copyOf(certificates);
        this.directory = directory;
        this.now = now;
    }

    /** Whether standard output is a terminal that takes colour (not with {@code NO_COLOR}, nor {@code TERM=dumb}). */
    static boolean colourTerminal() {
        String term = System.getenv("TERM");
        return System.console() != null && term != null && !term.equals("dumb") && System.getenv("NO_COLOR") == null;
    }

    /** The listing for people. */
    String text(boolean colour) {
        StringBuilder out = new StringBuilder();
        if (certificates.isEmpty()) {
            return out.append("No certificates found in ").append(directory).append('.').toString();
        }
        out.append("Found ").append(certificates.size()).append(certificates.size() == 1 ? " certificate" : " certificates")
                .append(" in ").append(directory).append(":\n");
        for (StoredCertificate c : certificates) {
            out.append('\n').append("Certificate Name: ").append(c.name()).append('\n');
            line(out, "Domains", String.join(", ", c.domains()));
            if (c.current().isPresent()) {
                StoredCertificate.Version v = c.current().get();
                if (!new java.util.HashSet<>(v.names()).equals(new java.util.HashSet<>(c.domains()))) {
                    line(out, "Names on It", String.join(", ", v.names()));
                }
                line(out, "Expiry Date", DATE.format(v.notAfter()) + " (" + validity(v, colour) + ")");
                line(out, "Issuer", v.issuer());
                line(out, "Key Type", v.keyType().map(KeyType::id).orElse("other"));
                line(out, "Profile", v.profile().orElse("(the CA's default)"));
                line(out, "Serial Number", v.serial());
                line(out, "Version", v.number() + ", stored " + DATE.format(v.stored()) + ", renewal due "
                        + DATE.format(v.renewalDue()));
                line(out, "CA", v.ca().toString());
                v.revoked().ifPresent(at -> line(out, "Revoked", paint(colour, RED, DATE.format(at)
                        + v.revocationReason().map(r -> " (" + r + ")").orElse(""))));
            }
            c.problem().ifPresent(p -> line(out, "Problem", paint(colour, RED, p)));
            line(out, "Last Renewal", c.lastOutcome().map(o -> outcome(o, colour)).orElse("none recorded"));
            if (c.current().isPresent()) {
                line(out, "Certificate Path", live(c, "fullchain").toString());
                line(out, "Private Key Path", live(c, "privkey").toString());
                line(out, "Leaf Path", live(c, "cert").toString());
                line(out, "Chain Path", live(c, "chain").toString());
            }
        }
        return out.toString().stripTrailing();
    }

    private String validity(StoredCertificate.Version v, boolean colour) {
        if (v.revoked().isPresent()) {
            return paint(colour, RED, "INVALID: REVOKED");
        }
        if (!now.isBefore(v.notAfter())) {
            return paint(colour, RED, "INVALID: EXPIRED");
        }
        if (now.isBefore(v.notBefore())) {
            return paint(colour, YELLOW, "INVALID: NOT YET VALID");
        }
        long days = Duration.between(now, v.notAfter()).toDays();
        String text = "VALID: " + days + (days == 1 ? " day" : " days");
        return paint(colour, now.isBefore(v.renewalDue()) ? GREEN : days < 7 ? RED : YELLOW, text);
    }

    private static String outcome(StoredCertificate.Outcome o, boolean colour) {
        String type = o.type().name().toLowerCase(Locale.ROOT);
        if (!o.failed()) {
            return type + " at " + DATE.format(o.at());
        }
        return paint(colour, RED, "FAILED") + " at " + DATE.format(o.at()) + " (attempt " + o.attempt()
                + o.nextAttempt().map(t -> ", next attempt " + DATE.format(t)).orElse("") + ")"
                + o.error().map(e -> ": " + e).orElse("");
    }

    private static void line(StringBuilder out, String label, String value) {
        out.append("    ").append(label).append(": ").append(value).append('\n');
    }

    private static String paint(boolean colour, String code, String text) {
        return colour ? code + text + RESET : text;
    }

    private String live(StoredCertificate c, String file) {
        return CliStorage.live(directory, c.lineage(), file + ".pem");
    }

    /** The JSON array for scripts: one object per certificate, absent values as {@code null}. */
    String json() {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < certificates.size(); i++) {
            StoredCertificate c = certificates.get(i);
            Optional<StoredCertificate.Version> v = c.current();
            out.append(i == 0 ? "\n  {" : ",\n  {");
            field(out, "name", string(c.name()), true);
            field(out, "lineage", string(c.lineage()), false);
            field(out, "domains", strings(c.domains()), false);
            field(out, "names", v.map(x -> strings(x.names())).orElse("null"), false);
            field(out, "version", v.map(x -> Integer.toString(x.number())).orElse("null"), false);
            field(out, "notBefore", v.map(x -> string(x.notBefore().toString())).orElse("null"), false);
            field(out, "notAfter", v.map(x -> string(x.notAfter().toString())).orElse("null"), false);
            field(out, "daysLeft", v.map(x -> Long.toString(Duration.between(now, x.notAfter()).toDays())).orElse("null"), false);
            field(out, "valid", v.map(x -> Boolean.toString(x.revoked().isEmpty() && !now.isBefore(x.notBefore())
                    && now.isBefore(x.notAfter()))).orElse("false"), false);
            field(out, "revoked", v.flatMap(StoredCertificate.Version::revoked).map(t -> string(t.toString())).orElse("null"), false);
            field(out, "revocationReason", v.flatMap(StoredCertificate.Version::revocationReason).map(CertificateReport::string)
                    .orElse("null"), false);
            field(out, "issuer", v.map(x -> string(x.issuer())).orElse("null"), false);
            field(out, "keyType", v.flatMap(StoredCertificate.Version::keyType).map(k -> string(k.id())).orElse("null"), false);
            field(out, "profile", v.flatMap(StoredCertificate.Version::profile).map(CertificateReport::string).orElse("null"), false);
            field(out, "serial", v.map(x -> string(x.serial())).orElse("null"), false);
            field(out, "ca", v.map(x -> string(x.ca().toString())).orElse("null"), false);
            field(out, "stored", v.map(x -> string(x.stored().toString())).orElse("null"), false);
            field(out, "renewalDue", v.map(x -> string(x.renewalDue().toString())).orElse("null"), false);
            field(out, "problem", c.problem().map(CertificateReport::string).orElse("null"), false);
            field(out, "lastOutcome", c.lastOutcome().map(CertificateReport::outcomeJson).orElse("null"), false);
            StringBuilder paths = new StringBuilder("{");
            for (int f = 0; f < FILES.size(); f++) {
                field(paths, FILES.get(f), v.isPresent() ? string(live(c, FILES.get(f)).toString()) : "null", f == 0);
            }
            field(out, "paths", paths.append('}').toString(), false);
            out.append('}');
        }
        return out.append(certificates.isEmpty() ? "]" : "\n]").toString();
    }

    private static String outcomeJson(StoredCertificate.Outcome o) {
        StringBuilder out = new StringBuilder("{");
        field(out, "outcome", string(o.type().name().toLowerCase(Locale.ROOT)), true);
        field(out, "at", string(o.at().toString()), false);
        field(out, "attempt", Integer.toString(o.attempt()), false);
        field(out, "error", o.error().map(CertificateReport::string).orElse("null"), false);
        field(out, "nextAttempt", o.nextAttempt().map(t -> string(t.toString())).orElse("null"), false);
        return out.append('}').toString();
    }

    private static void field(StringBuilder out, String name, String json, boolean first) {
        out.append(first ? "" : ", ").append('"').append(name).append("\": ").append(json);
    }

    private static String strings(List<String> values) {
        return "[" + String.join(", ", values.stream().map(CertificateReport::string).toList()) + "]";
    }

    /** A JSON string literal (RFC 8259 escapes), as the engine's status page writes them. */
    static String string(String value) {
        return StatusPage.jsonString(value);
    }
}
