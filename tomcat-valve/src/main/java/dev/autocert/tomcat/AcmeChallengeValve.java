package dev.autocert.tomcat;

import dev.autocert.core.Http01Tokens;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers ACME HTTP-01 challenges, {@code GET} or {@code HEAD /.well-known/acme-challenge/TOKEN},
 * from the engine's {@link Http01Tokens}, before any web application, security constraint or
 * redirect sees the request. Every other request goes to the next valve untouched.
 *
 * <p>{@link AutocertListener} adds one to each {@code <Engine>} that has none and connects it to
 * the engine; declare it yourself inside {@code <Engine>} to place it among other valves:
 * {@code <Valve className="dev.autocert.tomcat.AcmeChallengeValve"/>}. As an engine valve it
 * sees requests for every host, including names no {@code <Host>} matches.
 *
 * <p>A request under the challenge path that is not a current challenge (an unknown or malformed
 * token, {@code ..}, an encoded slash, another method) gets a 404 with an empty body, never
 * Tomcat's error page, also when Tomcat has already rejected its URI. The token is checked by {@link
 * Http01Tokens#respond} on the raw, undecoded request URI. Thread-safe.
 */
public final class AcmeChallengeValve extends ValveBase {

    private static final Logger LOG = LoggerFactory.getLogger(AcmeChallengeValve.class);

    private volatile Http01Tokens tokens;
    private volatile boolean warnedUnconnected;

    /**
     * A valve answering nothing until {@link AutocertListener} connects it to the engine: the
     * form for {@code server.xml}.
     */
    public AcmeChallengeValve() {
        super(true);
    }

    /**
     * A valve answering from {@code tokens}, usually {@code manager.http01Tokens()}: the form for
     * code that runs a {@link dev.autocert.core.CertificateManager} of its own.
     */
    public AcmeChallengeValve(Http01Tokens tokens) {
        this();
        this.tokens = java.util.Objects.requireNonNull(tokens, "tokens");
    }

    /** Connects this valve to the challenges of a running engine. */
    void tokens(Http01Tokens tokens) {
        this.tokens = tokens;
    }

    /** Whether {@link AutocertListener} connected this valve. */
    boolean connected() {
        return tokens != null;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        // The raw URI as sent: decoding first would let %2F or .. reach the token check.
        String rawPath = request.getRequestURI();
        if (!Http01Tokens.isChallengePath(rawPath)) {
            getNext().invoke(request, response);
            return;
        }
        answer(request, response, rawPath);
    }

    private void answer(Request request, Response response, String rawPath) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        if (response.isError()) {
            // Tomcat rejected the URI (an encoded slash, a bad escape) and would show its HTML
            // error page naming the cause; under the challenge path the answer is a plain 404.
            response.resetError();
            response.setSuspended(false);
        }
        response.reset();
        Http01Tokens current = tokens;
        if (current == null && !warnedUnconnected) {
            warnedUnconnected = true;
            LOG.warn("An ACME challenge request arrived at an AcmeChallengeValve that no AutocertListener connected; "
                    + "declare the valve inside <Engine> of a Server that has the AutocertListener");
        }
        String method = request.getMethod();
        boolean head = "HEAD".equals(method);
        Optional<String> body = current == null || !("GET".equals(method) || head)
                ? Optional.empty() : current.respond(rawPath);
        byte[] bytes;
        if (body.isPresent()) {
            LOG.debug("Answered an HTTP-01 challenge for host {} from {}", request.getServerName(), request.getRemoteAddr());
            response.setStatus(HttpServletResponse.SC_OK);
            bytes = body.get().getBytes(StandardCharsets.US_ASCII);
        } else {
            LOG.debug("No current HTTP-01 challenge for a {} request under {}; answered 404", method, Http01Tokens.PATH_PREFIX);
            response.setStatus(HttpServletResponse.SC_NOT_FOUND);
            bytes = new byte[0];
        }
        response.setContentType("text/plain");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length);
        if (!head) {
            response.getOutputStream().write(bytes);
        }
        response.flushBuffer();
    }
}
