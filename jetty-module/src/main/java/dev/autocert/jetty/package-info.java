/**
 * Automatic HTTPS for Jetty 12.0 and 12.1: the ACME challenge handler, the key manager that serves
 * the engine's certificates through Jetty's {@code SslContextFactory}, and the {@code autocert}
 * jetty-home module.
 *
 * <p>Public types, the whole list: {@link dev.autocert.jetty.AutocertJetty} (embedded servers:
 * {@code AutocertJetty.install(server, settings)}), {@link dev.autocert.jetty.AcmeChallengeHandler},
 * {@link dev.autocert.jetty.HttpsRedirectHandler} and {@link dev.autocert.jetty.HstsHandler} (for
 * servers that run their own {@code CertificateManager}, as the Spring Boot starter does) and
 * {@link dev.autocert.jetty.AutocertJettyModule} (called by {@code etc/jetty-autocert.xml}).
 * Everything else is package-private. The user guide is {@code docs/jetty.md}.
 */
package dev.autocert.jetty;
