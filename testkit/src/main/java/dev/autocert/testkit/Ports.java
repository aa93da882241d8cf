package dev.autocert.testkit;

/**
 * Holds the loopback ports of one Pebble setup; they stay the same across restarts.
 *
 * @param acme Pebble's ACME listener (HTTPS), which serves the directory
 * @param management Pebble's management listener (HTTPS), which serves the issuing roots
 * @param challengeManagement the management listener of {@code pebble-challtestsrv} (plain HTTP)
 * @param dns the mock DNS server of {@code pebble-challtestsrv} (UDP and TCP)
 * @param http the port Pebble connects to when it validates an HTTP-01 challenge
 * @param tls the port Pebble connects to when it validates a TLS-ALPN-01 challenge
 */
record Ports(int acme, int management, int challengeManagement, int dns, int http, int tls) {
}
