package dev.autocert.core;

import java.util.List;
import java.util.Map;

/**
 * An engine as JMX shows it, under {@code dev.autocert:type=CertificateManager,name=NAME}: for
 * plain Jetty and Tomcat what Spring Boot's actuator and Micrometer show. Registered in the
 * platform MBean server while the engine runs. Read-only; never a secret.
 */
public interface CertificateManagerMXBean {

    /** {@return false while a certificate is expiring (see {@link CertificateStatus#expiring})} */
    boolean isHealthy();

    /** {@return the status page's JSON ({@link StatusPage})} */
    String getStatus();

    /** {@return seconds until each certificate served expires, by name (negative once expired; placeholders included)} */
    Map<String, Long> getSecondsUntilExpiry();

    /** {@return {@link CertificateMetrics#obtained()}} */
    long getObtained();

    /** {@return {@link CertificateMetrics#renewed()}} */
    long getRenewed();

    /** {@return {@link CertificateMetrics#failed()}} */
    long getFailed();

    /** {@return {@link CertificateMetrics#failuresByCause()}} */
    Map<String, Long> getFailuresByCause();

    /** {@return {@link CertificateMetrics#ariChecks()}} */
    long getAriChecks();

    /** {@return {@link CertificateMetrics#ariFailures()}: renewal information the CA could not give} */
    long getAriFailures();

    /** {@return the names of the certificates that are expiring now (see {@link CertificateStatus#expiring})} */
    List<String> getExpiring();

    /** {@return {@link CertificateMetrics#challengeRequestsAnswered()}} */
    long getChallengeRequestsAnswered();
}
