/**
 * Autocert for Tomcat 10.1 and 11: {@link dev.autocert.tomcat.AutocertListener} runs the engine
 * from server.xml, {@link dev.autocert.tomcat.AutocertTomcat} installs it on an embedded Tomcat,
 * {@link dev.autocert.tomcat.AcmeChallengeValve} answers the CA's HTTP-01 challenges, and
 * {@link dev.autocert.tomcat.HstsValve} adds {@code Strict-Transport-Security} to HTTPS responses.
 * The HTTPS connectors serve the engine's certificates through its SNI key manager, installed once
 * ({@link dev.autocert.tomcat.AutocertSslImplementation}): a new certificate serves from the next
 * handshake, with nothing in Tomcat reloaded.
 */
package dev.autocert.tomcat;
