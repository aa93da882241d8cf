package dev.autocert.core;

import static java.util.Objects.requireNonNull;

/**
 * A setting has a value Autocert cannot use. The message names the setting, the value and the
 * fix, for example {@code autocert.key-type: expected one of ec-p256, ec-p384, rsa-2048,
 * rsa-3072, rsa-4096 but was 'ec256'}. Secret values (the EAB HMAC key) are never included.
 */
public final class InvalidSettingException extends IllegalArgumentException {

    private final String setting;

    /**
     * @param setting the full name of the setting, such as {@code autocert.dns-credentials}
     * @param problem what is wrong with its value and how to fix it; never a secret value
     */
    public InvalidSettingException(String setting, String problem) {
        super(requireNonNull(setting, "setting") + ": " + requireNonNull(problem, "problem"));
        this.setting = setting;
    }

    /** The full name of the setting at fault, for example {@code autocert.domains}. */
    public String setting() {
        return setting;
    }
}
