/**
 * Automatic HTTPS for Spring Boot: {@link dev.autocert.spring.AutocertAutoConfiguration} runs the
 * Autocert engine when {@code autocert.domains} is set, registers the {@code autocert} SSL bundle
 * Spring Boot builds the HTTPS connector from and, on embedded Tomcat or Jetty, serves every
 * certificate through the engine's key manager and answers the CA's HTTP-01 challenges; it
 * reports the certificates through actuator.
 *
 * <p>Public: the auto-configuration, {@link dev.autocert.spring.AutocertProperties}, the
 * {@link dev.autocert.spring.AutocertCertificateEvent} application event, the
 * {@link dev.autocert.spring.AutocertHealthIndicator} and the
 * {@link dev.autocert.spring.AutocertEndpoint}. Everything else is package-private. The user
 * guide is docs/spring-boot.md.
 */
package dev.autocert.spring;
