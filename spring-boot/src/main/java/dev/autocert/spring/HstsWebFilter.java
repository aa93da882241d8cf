package dev.autocert.spring;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * {@code autocert.hsts} for WebFlux: adds {@code Strict-Transport-Security} to every response to a
 * request whose scheme is {@code https} (over TLS, or through a proxy that says so when
 * {@code server.forward-headers-strategy} is set), first of all filters, so that Spring Security's own answers (401,
 * redirects) carry it too; plain HTTP never gets it (RFC 6797 section 7.2). A header the
 * application set itself is left alone. Thread-safe.
 */
final class HstsWebFilter implements WebFilter, Ordered {

    private static final String HEADER = "Strict-Transport-Security";

    /** The header's value; empty when {@code autocert.hsts} is off, and the filter does nothing. */
    private final Optional<String> value;

    HstsWebFilter(Optional<String> value) {
        this.value = requireNonNull(value, "value");
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (value.isPresent() && "https".equalsIgnoreCase(exchange.getRequest().getURI().getScheme())) {
            exchange.getResponse().beforeCommit(() -> {
                if (exchange.getResponse().getHeaders().getFirst(HEADER) == null) {
                    exchange.getResponse().getHeaders().set(HEADER, value.get());
                }
                return Mono.empty();
            });
        }
        return chain.filter(exchange);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
