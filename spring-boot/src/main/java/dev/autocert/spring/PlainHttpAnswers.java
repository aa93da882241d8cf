package dev.autocert.spring;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.Http01Tokens;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;

/**
 * What Autocert answers on {@code autocert.http-port} of a server it gives a listener of its own
 * (Reactor Netty, Undertow), whatever server carries the answer: the CA's HTTP-01 challenges from
 * the engine's tokens ({@code GET} and {@code HEAD}; other methods 405; an unknown or malformed
 * token a plain 404), and everything else a {@code 308 Permanent Redirect} to the same host, path
 * and query over HTTPS ({@code 400} when the {@code Host} header is missing or malformed, so no
 * redirect ever points elsewhere). Thread-safe.
 */
final class PlainHttpAnswers {

    /** A host name or an IPv4 address, then an optional port: what a Location may carry. */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?");
    /** An IPv6 literal in brackets, then an optional port. */
    private static final Pattern IPV6_HOST = Pattern.compile("\\[[0-9A-Fa-f:.]{2,45}\\](?::[0-9]{1,5})?");

    /**
     * One answer.
     *
     * @param status   the status code
     * @param location the {@code Location} header of a redirect; null otherwise
     * @param allow    the {@code Allow} header of a 405; null otherwise
     * @param body     the body: the key authorization of a challenge answered, else empty
     */
    record Answer(int status, String location, String allow, byte[] body) {

        private static Answer of(int status) {
            return new Answer(status, null, null, new byte[0]);
        }
    }

    private final Http01Tokens tokens;
    private final IntSupplier httpsPort;

    /**
     * @param httpsPort the port HTTPS is served on, asked at each redirect; 443 is left out of the URL
     */
    PlainHttpAnswers(Http01Tokens tokens, IntSupplier httpsPort) {
        this.tokens = requireNonNull(tokens, "tokens");
        this.httpsPort = requireNonNull(httpsPort, "httpsPort");
    }

    /**
     * The answer to a request.
     *
     * @param method  the request method
     * @param rawPath the request's path as sent, not decoded
     * @param rawQuery its query as sent, or null
     * @param host    its {@code Host} header, or null
     */
    Answer answer(String method, String rawPath, String rawQuery, String host) {
        if (Http01Tokens.isChallengePath(rawPath)) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                return new Answer(405, null, "GET, HEAD", new byte[0]);
            }
            return tokens.respond(rawPath).map(key -> new Answer(200, null, null, key.getBytes(StandardCharsets.US_ASCII)))
                    .orElseGet(() -> Answer.of(404));
        }
        return location(host, rawPath, rawQuery).map(location -> new Answer(308, location, null, new byte[0]))
                .orElseGet(() -> Answer.of(400));
    }

    /** {@code https://} the request's host, on the HTTPS port, with its path and query; empty for a bad host. */
    private Optional<String> location(String hostHeader, String rawPath, String rawQuery) {
        if (hostHeader == null || !(HOST.matcher(hostHeader).matches() || IPV6_HOST.matcher(hostHeader).matches())) {
            return Optional.empty();
        }
        int colon = hostHeader.lastIndexOf(':');
        String host = colon > hostHeader.lastIndexOf(']') ? hostHeader.substring(0, colon) : hostHeader;
        int https = httpsPort.getAsInt();
        String path = rawPath == null || !rawPath.startsWith("/") ? "/" : rawPath;
        return Optional.of("https://" + host + (https == 443 || https <= 0 ? "" : ":" + https) + path
                + (rawQuery == null ? "" : "?" + rawQuery));
    }
}
