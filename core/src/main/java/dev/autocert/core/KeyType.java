package dev.autocert.core;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The type of the private key generated for each certificate ({@code autocert.key-type}). */
public enum KeyType {
    /** ECDSA on NIST P-256: small, fast, accepted everywhere that matters. The default. */
    EC_P256("ec-p256", "EC", 256),
    /** ECDSA on NIST P-384. */
    EC_P384("ec-p384", "EC", 384),
    /** RSA with a 2048-bit modulus, for clients that cannot do ECDSA. */
    RSA_2048("rsa-2048", "RSA", 2048),
    /** RSA with a 3072-bit modulus. */
    RSA_3072("rsa-3072", "RSA", 3072),
    /** RSA with a 4096-bit modulus. */
    RSA_4096("rsa-4096", "RSA", 4096);

    private final String id;
    private final String algorithm;
    private final int bits;

    KeyType(String id, String algorithm, int bits) {
        this.id = id;
        this.algorithm = algorithm;
        this.bits = bits;
    }

    /** The setting's spelling, for example {@code ec-p256}. */
    public String id() {
        return id;
    }

    /** Generates a fresh key pair of this type. */
    public KeyPair generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            if ("EC".equals(algorithm)) {
                generator.initialize(new ECGenParameterSpec(bits == 256 ? "secp256r1" : "secp384r1"));
            } else {
                generator.initialize(bits);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("This JVM cannot generate " + id + " keys", e);
        }
    }

    /** The type of an existing public key, when it is one Autocert generates. */
    static Optional<KeyType> of(PublicKey key) {
        int size;
        if (key instanceof ECPublicKey ec) {
            size = ec.getParams().getCurve().getField().getFieldSize();
        } else if (key instanceof RSAPublicKey rsa) {
            size = rsa.getModulus().bitLength();
        } else {
            return Optional.empty();
        }
        return Arrays.stream(values())
                .filter(type -> type.algorithm.equals(key.getAlgorithm()) && type.bits == size)
                .findFirst();
    }

    static KeyType parse(String setting, String value) {
        String wanted = value.trim().toLowerCase(java.util.Locale.ROOT);
        for (KeyType type : values()) {
            if (type.id.equals(wanted)) {
                return type;
            }
        }
        throw new InvalidSettingException(setting, "expected one of " + allIds() + " but was '" + value + "'");
    }

    static String allIds() {
        return Arrays.stream(values()).map(KeyType::id).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return id;
    }
}
