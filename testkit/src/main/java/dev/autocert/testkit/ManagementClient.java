package dev.autocert.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * Talks to the management listeners of Pebble (HTTPS) and {@code pebble-challtestsrv} (HTTP).
 */
final class ManagementClient {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final HttpClient http;

    /**
     * Creates a client.
     *
     * @param trust the SSL context that trusts Pebble's listener certificate
     */
    ManagementClient(SSLContext trust) {
        this.http = HttpClient.newBuilder()
                .sslContext(trust)
                .connectTimeout(TIMEOUT)
                .proxy(HttpClient.Builder.NO_PROXY)
                .build();
    }

    /**
     * Downloads PEM certificates, such as an issuing root from {@code /roots/0}.
     *
     * @param url where the PEM text is served
     * @return the certificates, in the order served
     */
    List<X509Certificate> certificates(URI url) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(url).GET());
        requireOk(response);
        try {
            return PebbleCertificates.parseCertificates(response.body());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("No certificate at " + url + ": " + e.getMessage(), e);
        }
    }

    /**
     * Posts a JSON body and requires status 200.
     *
     * @param url the management endpoint, such as {@code /set-txt}
     * @param json the request body
     */
    void post(URI url, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        requireOk(send(request));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        HttpRequest built = request.timeout(TIMEOUT).build();
        try {
            return http.send(built, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(built.method() + " " + built.uri() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted during " + built.method() + " " + built.uri(), e);
        }
    }

    private static void requireOk(HttpResponse<String> response) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException(response.request().method() + " " + response.uri()
                    + " answered " + response.statusCode() + ": " + response.body().strip());
        }
    }
}
