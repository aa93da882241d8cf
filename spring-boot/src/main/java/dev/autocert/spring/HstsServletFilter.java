package dev.autocert.spring;

import static java.util.Objects.requireNonNull;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import org.springframework.core.Ordered;

/**
 * {@code autocert.hsts} for Spring MVC on a server whose connectors the starter does not fit
 * (Undertow): adds {@code Strict-Transport-Security} to every response to a secure request
 * ({@link HttpServletRequest#isSecure()}, also behind a proxy when forwarded headers are on), first
 * of all filters, before the response is committed; plain HTTP never gets it. A header the
 * application set itself is left alone. Tomcat and Jetty get theirs from a valve and a handler.
 * Thread-safe.
 */
final class HstsServletFilter extends HttpFilter implements Ordered {

    private static final String HEADER = "Strict-Transport-Security";

    /** The header's value; empty when {@code autocert.hsts} is off, and the filter does nothing. */
    private final Optional<String> value;

    HstsServletFilter(Optional<String> value) {
        this.value = requireNonNull(value, "value");
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (value.isPresent() && request.isSecure() && !response.containsHeader(HEADER)) {
            response.setHeader(HEADER, value.get());
        }
        chain.doFilter(request, response);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
