package dev.autocert.testkit;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;

/**
 * A TSIG key (RFC 8945) a test DNS server accepts: its name, algorithm and base64 secret.
 *
 * @param name the key's name, without a final dot, such as {@code acme-key}
 * @param algorithm the algorithm as BIND and Knot write it, such as {@code hmac-sha256}
 * @param secret the base64 secret; {@link #toString()} leaves it out
 */
record TsigKey(String name, String algorithm, String secret) {

    /** The algorithm every key of the test kit uses. */
    static final String HMAC_SHA256 = "hmac-sha256";

    /** {@code secret "…";} in BIND's {@code tsig-keygen} output. */
    private static final Pattern BIND_SECRET = Pattern.compile("secret\\s+\"([A-Za-z0-9+/=]+)\"\\s*;");

    /** {@code secret: …} in Knot's {@code keymgr -t} output. */
    private static final Pattern KNOT_SECRET = Pattern.compile("secret:\\s*([A-Za-z0-9+/=]+)");

    private static final SecureRandom RANDOM = new SecureRandom();

    TsigKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(secret, "secret");
    }

    /** A key with a fresh random 256-bit secret, as {@code tsig-keygen} makes them. */
    static TsigKey random(String name) {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return new TsigKey(name, HMAC_SHA256, Base64.getEncoder().encodeToString(secret));
    }

    /** Reads the key {@code tsig-keygen -a hmac-sha256 NAME} printed. */
    static TsigKey fromBind(String name, String output) {
        return new TsigKey(name, HMAC_SHA256, find(BIND_SECRET, output, "tsig-keygen"));
    }

    /** Reads the key {@code keymgr -t NAME hmac-sha256} printed. */
    static TsigKey fromKnot(String name, String output) {
        return new TsigKey(name, HMAC_SHA256, find(KNOT_SECRET, output, "keymgr"));
    }

    /** {@return this key's {@code key} statement for BIND's configuration} */
    String bindStatement() {
        return "key \"" + name + "\" {\n\talgorithm " + algorithm + ";\n\tsecret \"" + secret + "\";\n};\n";
    }

    /** {@return this key's entry in Knot's {@code key:} section} */
    String knotEntry() {
        return "  - id: " + name + "\n    algorithm: " + algorithm + "\n    secret: " + secret + "\n";
    }

    /** {@return dnsjava's signer for this key} */
    TSIG tsig() {
        return new TSIG(TSIG.algorithmToName(algorithm), Name.fromConstantString(name + "."), secret);
    }

    private static String find(Pattern pattern, String output, String program) {
        Matcher matcher = pattern.matcher(output);
        if (!matcher.find()) {
            // The output holds the secret: never quote it.
            throw new IllegalStateException(program + " printed no secret in the expected form");
        }
        return matcher.group(1);
    }

    /** Name and algorithm; never the secret. */
    @Override
    public String toString() {
        return "TsigKey{" + name + ", " + algorithm + "}";
    }
}
