/**
 * Autocert for Tomcat 10.1 and 11: {@link dev.autocert.tomcat.AutocertListener} runs the engine
 * from server.xml, {@link dev.autocert.tomcat.AutocertTomcat} installs it on an embedded Tomcat,
 * and {@link dev.autocert.tomcat.AcmeChallengeValve} answers the CA's HTTP-01 challenges.
 * Certificates are swapped into the HTTPS connectors as new {@code SSLHostConfig}s while Tomcat runs.
 */
package dev.autocert.tomcat;
