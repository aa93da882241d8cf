/**
 * Automatic HTTPS for Spring Boot: {@link dev.autocert.spring.AutocertAutoConfiguration} runs the
 * Autocert engine when {@code autocert.domains} is set, serves its certificates through the
 * {@code autocert} SSL bundle, answers the CA's HTTP-01 challenges on embedded Tomcat or Jetty,
 * and reports the certificates through actuator.
 *
 * <p>Public: the auto-configuration, {@link dev.autocert.spring.AutocertProperties}, the
 * {@link dev.autocert.spring.AutocertCertificateEvent} application event, the
 * {@link dev.autocert.spring.AutocertHealthIndicator} and the
 * {@link dev.autocert.spring.AutocertEndpoint}. Everything else is package-private. The user
 * guide is docs/spring-boot.md.
 */
package dev.autocert.spring;
