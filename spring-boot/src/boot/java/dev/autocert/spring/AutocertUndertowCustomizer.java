package dev.autocert.spring;

import dev.autocert.core.AutocertSettings;
import dev.autocert.core.CertificateManager;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.embedded.undertow.ConfigurableUndertowWebServerFactory;
import org.springframework.boot.web.embedded.undertow.UndertowServletWebServerFactory;
import org.springframework.boot.web.server.AbstractConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.ApplicationContext;

/**
 * Fits Spring Boot 3.5's Undertow, servlet or reactive, for Autocert: a plain HTTP listener of
 * Undertow's own on {@code autocert.http-port} (unless the server already listens there) whose
 * only handler gives {@link PlainHttpAnswers}' answers (HTTP-01 challenges, 308 to HTTPS), so no
 * filter, {@code WebFilter} or Spring Security ever sees a challenge or a plain request; it starts
 * and stops with the server. With {@code autocert.hsts} on Spring MVC, every HTTPS response gets
 * {@code Strict-Transport-Security} (WebFlux has {@link HstsWebFilter}).
 * The HTTPS side is Spring Boot's, built from the {@code autocert} bundle's key manager.
 */
final class AutocertUndertowCustomizer implements WebServerFactoryCustomizer<ConfigurableUndertowWebServerFactory> {

    private static final Logger LOG = LoggerFactory.getLogger(AutocertUndertowCustomizer.class);
    private static final HttpString STRICT_TRANSPORT_SECURITY = new HttpString("Strict-Transport-Security");

    private final CertificateManager manager;
    private final ApplicationContext context;

    /** {@code lifecycle} is here so that the engine has published its certificates before the server is created. */
    AutocertUndertowCustomizer(AutocertLifecycle lifecycle, CertificateManager manager, ApplicationContext context) {
        this.manager = manager;
        this.context = context;
    }

    @Override
    public void customize(ConfigurableUndertowWebServerFactory factory) {
        AutocertSettings settings = manager.settings();
        if (settings.answersHttp01() && factory instanceof AbstractConfigurableWebServerFactory undertow) {
            if (undertow.getPort() == settings.httpPort()) {
                LOG.warn("Undertow listens on autocert.http-port {} itself, where Autocert cannot answer HTTP-01 challenges: "
                        + "set server.port to the HTTPS port, or use autocert.challenges=dns-01", undertow.getPort());
            } else {
                InetAddress address = undertow.getAddress();
                String host = address == null ? "0.0.0.0" : address.getHostAddress();
                PlainHttpAnswers answers = new PlainHttpAnswers(manager.http01Tokens(), AutocertWebServers.httpsPort(settings, undertow, context));
                factory.addBuilderCustomizers(builder -> builder.addHttpListener(settings.httpPort(), host,
                        exchange -> answer(answers, exchange)));
            }
        }
        settings.hsts().ifPresent(value -> {
            if (factory instanceof UndertowServletWebServerFactory servlet) {
                servlet.addDeploymentInfoCustomizers(info -> info.addOuterHandlerChainWrapper(next -> hsts(next, value)));
            }
        });
    }

    private static void answer(PlainHttpAnswers answers, HttpServerExchange exchange) {
        String query = exchange.getQueryString();
        PlainHttpAnswers.Answer answer = answers.answer(exchange.getRequestMethod().toString(), exchange.getRequestURI(),
                query == null || query.isEmpty() ? null : query, exchange.getRequestHeaders().getFirst(Headers.HOST));
        exchange.setStatusCode(answer.status());
        if (answer.location() != null) {
            exchange.getResponseHeaders().put(Headers.LOCATION, answer.location());
        }
        if (answer.allow() != null) {
            exchange.getResponseHeaders().put(Headers.ALLOW, answer.allow());
        }
        if (answer.body().length == 0) {
            exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, 0);
            exchange.endExchange();
        } else {
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/octet-stream");
            exchange.getResponseSender().send(ByteBuffer.wrap(answer.body()));
        }
    }

    /**
     * Puts {@code value} on every response to an HTTPS request before the application runs, as
     * the Tomcat valve does: Spring Security's own HSTS writer then sees it and adds none, and an
     * application that sets the header itself replaces it.
     */
    private static HttpHandler hsts(HttpHandler next, String value) {
        return exchange -> {
            if ("https".equalsIgnoreCase(exchange.getRequestScheme())) {
                exchange.getResponseHeaders().put(STRICT_TRANSPORT_SECURITY, value);
            }
            next.handleRequest(exchange);
        };
    }
}
