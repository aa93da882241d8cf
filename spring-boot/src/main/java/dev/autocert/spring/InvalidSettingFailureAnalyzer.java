package dev.autocert.spring;

import dev.autocert.core.InvalidSettingException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/**
 * Turns an invalid {@code autocert.*} property into Spring Boot's "APPLICATION FAILED TO START"
 * report: the property, the value and where it was set, what is wrong, and the fix. The
 * message itself comes from core, as on every other surface. The EAB HMAC key's value is never
 * shown. Registered in {@code META-INF/spring.factories}.
 */
final class InvalidSettingFailureAnalyzer extends AbstractFailureAnalyzer<InvalidSettingException> {

    private static final String SECRET = "autocert.eab-hmac-key";

    private final Environment environment;

    InvalidSettingFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidSettingException cause) {
        String property = cause.setting();
        String reason = reason(cause);
        ConfigurationProperty source = find(property);
        StringBuilder description = new StringBuilder("Autocert cannot start: the property '").append(property)
                .append("' is invalid.\n\n    Property: ").append(property).append('\n');
        if (source != null) {
            description.append("    Value: ").append(SECRET.equals(property) ? "(hidden)" : "\"" + source.getValue() + "\"")
                    .append('\n');
            if (source.getOrigin() != null) {
                description.append("    Origin: ").append(source.getOrigin()).append('\n');
            }
        }
        description.append("    Reason: ").append(reason);
        String where = source != null && source.getOrigin() != null ? "from " + source.getOrigin()
                : "not set; set it in application.properties, application.yaml or the environment";
        String sentence = reason.endsWith(".") || reason.endsWith("?") ? reason : reason + ".";
        String action = "Update '" + property + "' (" + where + "): " + sentence
                + " Every autocert.* property is described in Autocert's settings reference (docs/settings.md).";
        return new FailureAnalysis(description.toString(), action, cause);
    }

    /** The message without the leading {@code "autocert.name: "}, which the report shows separately. */
    private static String reason(InvalidSettingException cause) {
        String message = cause.getMessage();
        String prefix = cause.setting() + ": ";
        return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }

    private ConfigurationProperty find(String property) {
        if (environment == null || !ConfigurationPropertyName.isValid(property)) {
            return null;
        }
        ConfigurationPropertyName name = ConfigurationPropertyName.of(property);
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            ConfigurationProperty found = source.getConfigurationProperty(name);
            if (found != null) {
                return found;
            }
        }
        return null;
    }
}
