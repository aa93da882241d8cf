package dev.autocert.core;

import java.net.URI;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The CAs {@code autocert.ca} knows by name, with what each one requires of an account. */
enum KnownCa {
    LETSENCRYPT("letsencrypt", "https://acme-v02.api.letsencrypt.org/directory", false),
    LETSENCRYPT_STAGING("letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory", false),
    ZEROSSL("zerossl", "https://acme.zerossl.com/v2/DV90", true),
    GOOGLE("google", "https://dv.acme-v02.api.pki.goog/directory", true);

    final String id;
    final URI directory;
    /** Whether new accounts need external account binding (ZeroSSL and Google Trust Services do). */
    final boolean eabRequired;

    KnownCa(String id, String directory, boolean eabRequired) {
        this.id = id;
        this.directory = URI.create(directory);
        this.eabRequired = eabRequired;
    }

    static Optional<KnownCa> byId(String id) {
        String wanted = id.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(ca -> ca.id.equals(wanted)).findFirst();
    }

    static Optional<KnownCa> byDirectory(URI directory) {
        return Arrays.stream(values()).filter(ca -> ca.directory.equals(directory)).findFirst();
    }
}
