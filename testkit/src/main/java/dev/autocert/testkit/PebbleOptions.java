package dev.autocert.testkit;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * Holds the settings of a {@link PebbleServer} and turns them into Pebble's environment
 * variables and JSON configuration.
 *
 * @param nonceRejectPercent {@code PEBBLE_WFE_NONCEREJECT}
 * @param certificateValidity {@code certificateValidityPeriod}, or null for Pebble's default
 * @param alternateRoots {@code PEBBLE_ALTERNATE_ROOTS}
 * @param authorizationReusePercent {@code PEBBLE_AUTHZREUSE}
 * @param eabKeyId the external account binding key identifier, or null when not required
 * @param eabHmacKey the base64url HMAC key for {@code eabKeyId}, or null
 * @param httpPort the HTTP-01 validation port, or 0 to pick a free one
 * @param tlsPort the TLS-ALPN-01 validation port, or 0 to pick a free one
 * @param pebbleBinary the {@code pebble} executable, or null to search for it
 * @param current whether Pebble 2.10 or later is required (ARI, profiles, Retry-After settings)
 * @param profiles the profiles to offer, by name, with their validity; empty for none
 * @param retryAfterAuthz {@code retryAfterAuthz}, or null
 * @param retryAfterOrder {@code retryAfterOrder}, or null
 * @param dnsServer the DNS server Pebble resolves every name with, or null for its own
 *     {@code pebble-challtestsrv}
 */
record PebbleOptions(
        int nonceRejectPercent,
        Duration certificateValidity,
        int alternateRoots,
        int authorizationReusePercent,
        String eabKeyId,
        String eabHmacKey,
        int httpPort,
        int tlsPort,
        Path pebbleBinary,
        boolean current,
        Map<String, Duration> profiles,
        Duration retryAfterAuthz,
        Duration retryAfterOrder,
        InetSocketAddress dnsServer) {

    PebbleOptions {
        profiles = Collections.unmodifiableMap(new LinkedHashMap<>(profiles));
    }

    /**
     * {@return the environment variables Pebble is started with}
     *
     * <p>All are set explicitly, because Pebble's defaults for unset variables are not the
     * deterministic ones tests want (5 % rejected nonces, 50 % reused authorizations, random
     * sleeps before validation). {@code PEBBLE_VA_ALWAYS_VALID} is never set: every challenge is
     * really validated.
     */
    Map<String, String> environment() {
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("PEBBLE_VA_NOSLEEP", "1");
        environment.put("PEBBLE_WFE_NONCEREJECT", Integer.toString(nonceRejectPercent));
        environment.put("PEBBLE_AUTHZREUSE", Integer.toString(authorizationReusePercent));
        environment.put("PEBBLE_ALTERNATE_ROOTS", Integer.toString(alternateRoots));
        return environment;
    }

    /**
     * Renders Pebble's JSON configuration file.
     *
     * @param ports the listener and validation ports
     * @param certificate the listener certificate PEM file
     * @param privateKey the listener private key PEM file
     * @return the JSON text
     */
    String configJson(Ports ports, Path certificate, Path privateKey) {
        String loopback = FreePorts.LOOPBACK.getHostAddress();
        Map<String, String> pebble = new LinkedHashMap<>();
        pebble.put("listenAddress", Json.string(loopback + ":" + ports.acme()));
        pebble.put("managementListenAddress", Json.string(loopback + ":" + ports.management()));
        pebble.put("certificate", Json.string(certificate.toAbsolutePath().toString()));
        pebble.put("privateKey", Json.string(privateKey.toAbsolutePath().toString()));
        pebble.put("httpPort", Integer.toString(ports.http()));
        pebble.put("tlsPort", Integer.toString(ports.tls()));
        pebble.put("ocspResponderURL", Json.string(""));
        pebble.put("externalAccountBindingRequired", Boolean.toString(eabKeyId != null));
        if (eabKeyId != null) {
            pebble.put("externalAccountMACKeys", Json.object(Map.of(eabKeyId, Json.string(eabHmacKey))));
        }
        if (certificateValidity != null) {
            // Pebble 2.4 reads this; 2.10 ignores it and takes validity from its profiles.
            pebble.put("certificateValidityPeriod", Long.toString(certificateValidity.toSeconds()));
        }
        Map<String, Duration> offered = new LinkedHashMap<>(profiles);
        if (current && offered.isEmpty()) {
            // Pebble 2.10's one profile when none is configured, with the validity asked for.
            offered.put("default", certificateValidity != null ? certificateValidity : Duration.ofDays(90));
        }
        if (current) {
            Map<String, String> rendered = new LinkedHashMap<>();
            offered.forEach((name, validity) -> rendered.put(name, Json.object(Map.of(
                    "description", Json.string("The " + name + " profile"),
                    "validityPeriod", Long.toString(validity.toSeconds())))));
            pebble.put("profiles", Json.object(rendered));
        }
        if (retryAfterAuthz != null || retryAfterOrder != null) {
            Map<String, String> retryAfter = new LinkedHashMap<>();
            retryAfter.put("authz", Long.toString(retryAfterAuthz == null ? 0 : retryAfterAuthz.toSeconds()));
            retryAfter.put("order", Long.toString(retryAfterOrder == null ? 0 : retryAfterOrder.toSeconds()));
            pebble.put("retryAfter", Json.object(retryAfter));
        }
        return Json.object(Map.of("pebble", Json.object(pebble)));
    }

    /**
     * Chooses the ports of a new setup: the fixed validation ports, and free loopback ports for
     * everything else.
     *
     * @return the ports
     */
    Ports choosePorts() {
        Set<Integer> fixed = new HashSet<>();
        if (httpPort != 0) {
            fixed.add(httpPort);
        }
        if (tlsPort != 0) {
            fixed.add(tlsPort);
        }
        int needed = 4 + (httpPort == 0 ? 1 : 0) + (tlsPort == 0 ? 1 : 0);
        // The first port is also free for UDP: it becomes the DNS port.
        Iterator<Integer> free = FreePorts.pick(needed, fixed, 1).iterator();
        int dns = free.next();
        int acme = free.next();
        int management = free.next();
        int challengeManagement = free.next();
        int http = httpPort != 0 ? httpPort : free.next();
        int tls = tlsPort != 0 ? tlsPort : free.next();
        return new Ports(acme, management, challengeManagement, dns, http, tls);
    }

    /** {@return the number of issuing roots Pebble serves: the main one and the alternates} */
    int rootCount() {
        return 1 + alternateRoots;
    }
}
