/**
 * The Autocert engine: settings, ACME accounts and orders, certificate storage, renewal and
 * events. Knows no server; adapters (Jetty, Tomcat, Spring Boot) build on it.
 *
 * <p>Public types, the whole list: {@link dev.autocert.core.AutocertSettings},
 * {@link dev.autocert.core.ManagedCertificate}, {@link dev.autocert.core.KeyType},
 * {@link dev.autocert.core.ChallengeType}, {@link dev.autocert.core.InvalidSettingException},
 * {@link dev.autocert.core.AutocertException}, {@link dev.autocert.core.CertificateManager},
 * {@link dev.autocert.core.CertifiedKey}, {@link dev.autocert.core.CertificateEvent},
 * {@link dev.autocert.core.CertificateStatus}, {@link dev.autocert.core.SniKeyManager},
 * {@link dev.autocert.core.CertificateListener}, {@link dev.autocert.core.Http01Tokens},
 * {@link dev.autocert.core.ChallengeSolver}, {@link dev.autocert.core.ChallengeData},
 * {@link dev.autocert.core.Storage}, {@link dev.autocert.core.FileStorage},
 * {@link dev.autocert.core.RetrySchedule}, {@link dev.autocert.core.KeyStores} and
 * {@link dev.autocert.core.AccountManager} (with its {@code AccountInfo}).
 * Everything else is package-private.
 */
package dev.autocert.core;
