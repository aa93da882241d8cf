/**
 * Runs Pebble, Let's Encrypt's test ACME server, on loopback for tests and demos of
 * Autocert-enabled applications.
 *
 * <p>The one entry point is {@link dev.autocert.testkit.PebbleServer}: a JUnit 5 extension
 * ({@code @RegisterExtension static final PebbleServer PEBBLE = PebbleServer.builder().build();})
 * that can also be started by hand or from the command line. It needs the {@code pebble} and
 * {@code pebble-challtestsrv} programs ({@code sudo apt-get install -y pebble} on Debian and
 * Ubuntu).
 *
 * <p>Public types, the whole list: {@link dev.autocert.testkit.PebbleServer} and
 * {@link dev.autocert.testkit.PebbleServer.Builder}. Everything else is package-private.
 */
package dev.autocert.testkit;
