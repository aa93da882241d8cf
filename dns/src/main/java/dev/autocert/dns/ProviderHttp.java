package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import dev.autocert.core.AutocertException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * The HTTP side of a DNS provider that talks to a hosted API: one JDK {@link HttpClient} for
 * all, requests under the API's base URL with its headers and a timeout, and failures that name
 * the provider, the action and what the API answered, with the provider's secrets cut out of it
 * (an API may echo a key back in its error). JSON goes through acme4j's {@link JSON}, already on
 * the class path. Also checks a base URL option, encodes query values and reads an error body's
 * list of errors. One per provider; thread-safe.
 */
final class ProviderHttp {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_DETAIL = 300;

    private final String provider;
    private final String base;
    private final Function<String, String> errorDetail;
    private final List<String> secrets;
    private final String[] headers;

    /**
     * @param provider    the provider's name, for messages
     * @param base        the API's base URL, which {@link #request(String)} paths follow (a final slash is dropped);
     *                    null for a provider that builds whole URLs itself
     * @param errorDetail what an error body says, in the provider's own shape (for example
     *                    Cloudflare's {@code errors[].message}); null or blank when it says nothing
     * @param secrets     the values never to repeat from an answer (nulls and empty strings are skipped)
     * @param headers     name-value pairs sent with every {@link #request(String)}, such as the
     *                    {@code Authorization} header
     */
    ProviderHttp(String provider, String base, Function<String, String> errorDetail, Collection<String> secrets, String... headers) {
        this.provider = requireNonNull(provider, "provider");
        this.base = base == null || !base.endsWith("/") ? base : base.substring(0, base.length() - 1);
        this.errorDetail = requireNonNull(errorDetail, "errorDetail");
        this.secrets = secrets.stream().filter(s -> s != null && !s.isEmpty()).toList();
        this.headers = headers.clone();
    }

    /** {@return the base URL, without a final slash} */
    String base() {
        return base;
    }

    /** A request builder for {@code uri} with the timeout set. */
    static HttpRequest.Builder request(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(TIMEOUT);
    }

    /** A request builder for {@code path} under the base URL, with the timeout, the headers and {@code Accept: application/json}. */
    HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = request(URI.create(base + path)).header("Accept", "application/json");
        return headers.length == 0 ? builder : builder.headers(headers);
    }

    /** A JSON body. */
    static HttpRequest.BodyPublisher json(String json) {
        return HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8);
    }

    /**
     * Sends {@code request}; a 2xx answer is returned, anything else fails.
     *
     * @param what what the request does, for messages: "adding the TXT record _acme-challenge.example.com."
     */
    HttpResponse<String> send(HttpRequest request, String what) throws AutocertException {
        HttpResponse<String> response = exchange(request, what);
        if (response.statusCode() / 100 != 2) {
            throw failure(what, response);
        }
        return response;
    }

    /**
     * Sends {@code request}; a 2xx answer or one with status {@code accepted} is returned,
     * anything else fails. For a 404 that means "not there", say, to a read or a delete.
     */
    HttpResponse<String> send(HttpRequest request, String what, int accepted) throws AutocertException {
        HttpResponse<String> response = exchange(request, what);
        if (response.statusCode() / 100 != 2 && response.statusCode() != accepted) {
            throw failure(what, response);
        }
        return response;
    }

    /** Sends {@code request}, a look-up: {@return whether the API answered 2xx rather than 404} Anything else fails. */
    boolean exists(HttpRequest request, String what) throws AutocertException {
        return send(request, what, 404).statusCode() != 404;
    }

    /** Sends {@code request} and returns whatever the answer is; only a transport failure fails. */
    HttpResponse<String> exchange(HttpRequest request, String what) throws AutocertException {
        try {
            return CLIENT.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw error(what + " failed: cannot reach " + request.uri().getHost() + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() != null ? ": " + e.getMessage() : "") + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw error(what + " was interrupted");
        }
    }

    /** Sends {@code request} and parses a 2xx answer's JSON body (empty for no body). */
    JSON sendJson(HttpRequest request, String what) throws AutocertException {
        String body = send(request, what).body();
        return body == null || body.isBlank() ? JSON.empty() : parse(body, what);
    }

    /** {@code body} as a JSON object. */
    JSON parse(String body, String what) throws AutocertException {
        try {
            return JSON.parse(body);
        } catch (RuntimeException e) {
            throw notJson(what);
        }
    }

    /**
     * {@code body} as any JSON value: an array, a number, a string, or {@code null} for no body.
     * (acme4j's parser takes only objects, so it is read inside one.)
     */
    JSON.Value parseValue(String body, String what) throws AutocertException {
        try {
            return JSON.parse("{\"value\":" + (body == null || body.isBlank() ? "null" : body) + "}").get("value");
        } catch (RuntimeException e) {
            throw notJson(what);
        }
    }

    private AutocertException notJson(String what) {
        return error(what + ": the API answered something that is not JSON");
    }

    /** Waits {@code pause}; an interruption fails with {@code interrupted}, such as "adding … was interrupted". */
    void sleep(Duration pause, String interrupted) throws AutocertException {
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw error(interrupted);
        }
    }

    /** A failure of this provider: {@code DNS-01 through NAME: message}. */
    AutocertException error(String message) {
        return new AutocertException("DNS-01 through " + provider + ": " + message);
    }

    /** The failure for a non-2xx answer: status, and the provider's own words when it gave any. */
    AutocertException failure(String what, HttpResponse<String> response) {
        String detail = null;
        try {
            detail = response.body() == null || response.body().isBlank() ? null : redact(errorDetail.apply(response.body()));
        } catch (RuntimeException e) {
            // an error body of another shape: the status alone
        }
        if (detail != null && detail.length() > MAX_DETAIL) {
            detail = detail.substring(0, MAX_DETAIL) + "…";
        }
        String hint = switch (response.statusCode()) {
            case 401, 403 -> "; check the credentials and that they may edit this zone";
            case 429 -> "; the API limits requests, the order is retried later";
            default -> "";
        };
        return error(what + " failed: HTTP " + response.statusCode() + (detail != null && !detail.isBlank() ? " (" + detail + ")" : "")
                + hint);
    }

    /**
     * The entries of an error body's list, such as Cloudflare's {@code errors[]}: each as {@code
     * key: message}, or its message alone when it has no key; none when there is no list.
     */
    static List<String> errors(JSON.Value list, String keyField, String messageField) {
        List<String> errors = new ArrayList<>();
        if (list.isPresent()) {
            for (JSON.Value e : list.asArray()) {
                JSON error = e.asObject();
                errors.add(error.get(keyField).optional().map(k -> k.asString() + ": ").orElse("")
                        + error.get(messageField).optional().map(JSON.Value::asString).orElse(""));
            }
        }
        return errors;
    }

    /** {@code text} with every one of the secrets replaced, or null for null. */
    String redact(String text) {
        if (text == null) {
            return null;
        }
        String result = text;
        for (String secret : secrets) {
            result = result.replace(secret, "[redacted]");
        }
        return result;
    }

    /** {@code value} as a query parameter value. */
    static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Whether {@code url} is an http or https URL with a host. */
    static boolean isHttpUrl(String url) {
        try {
            URI uri = new URI(url);
            return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    /**
     * A base URL option, checked: an http or https URL, returned without a final slash.
     *
     * @param certbotKey   its INI key, or null
     * @param legoVariable its lego-style variable, or null
     * @param otherwise    the provider's real API, when the option is not set
     */
    static String baseUrl(DnsCredentials credentials, String certbotKey, String legoVariable, String otherwise) {
        String url = credentials.get(certbotKey, legoVariable).orElse(otherwise);
        if (!isHttpUrl(url)) {
            String key = certbotKey == null ? legoVariable : legoVariable == null ? certbotKey : certbotKey + " (" + legoVariable + ")";
            throw credentials.invalid(key, "is '" + url + "'; expected an http or https URL such as " + otherwise);
        }
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
