/**
 * Runs Pebble, Let's Encrypt's test ACME server, and real DNS servers on loopback for tests and
 * demos of Autocert-enabled applications.
 *
 * <p>The main entry point is {@link dev.autocert.testkit.PebbleServer}: a JUnit 5 extension
 * ({@code @RegisterExtension static final PebbleServer PEBBLE = PebbleServer.builder().build();})
 * that can also be started by hand or from the command line. It needs the {@code pebble} and
 * {@code pebble-challtestsrv} programs ({@code sudo apt-get install -y pebble} on Debian and
 * Ubuntu).
 *
 * <p>For DNS-01, {@link dev.autocert.testkit.BindServer}, {@link dev.autocert.testkit.KnotServer}
 * and {@link dev.autocert.testkit.PowerDnsServer} run the real servers as extensions of the same
 * kind ({@link dev.autocert.testkit.DnsServer} describes what they share), and
 * {@code PebbleServer.builder().dnsServer(BIND.address())} makes Pebble validate through one.
 *
 * <p>For storage a cluster shares, {@link dev.autocert.testkit.PostgresServer} (Debian's
 * PostgreSQL, a throwaway cluster) and {@link dev.autocert.testkit.OpenBaoServer} (OpenBao, Vault's
 * API, in dev mode) are extensions of the same kind.
 *
 * <p>Public types, the whole list: {@link dev.autocert.testkit.PebbleServer},
 * {@link dev.autocert.testkit.DnsServer}, {@link dev.autocert.testkit.BindServer},
 * {@link dev.autocert.testkit.KnotServer}, {@link dev.autocert.testkit.PowerDnsServer},
 * {@link dev.autocert.testkit.PostgresServer}, {@link dev.autocert.testkit.OpenBaoServer} and their
 * {@code Builder}s; the probes {@link dev.autocert.testkit.HttpsProbe},
 * {@link dev.autocert.testkit.Http2Probe} and {@link dev.autocert.testkit.JmxProbe};
 * {@link dev.autocert.testkit.StoredCertificates}.
 * Everything else is package-private.
 */
package dev.autocert.testkit;
