package dev.autocert.core;

import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link CertificateManagerMXBean} of one engine, and its registration. */
final class ManagerMBean implements CertificateManagerMXBean {

    private static final Logger LOG = LoggerFactory.getLogger(ManagerMBean.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final CertificateManager manager;
    private final Clock clock;
    private ObjectName registered;

    ManagerMBean(CertificateManager manager, Clock clock) {
        this.manager = manager;
        this.clock = clock;
    }

    /** Registers in the platform MBean server; a failure is only logged (JMX is a convenience). */
    synchronized void register() {
        if (registered != null) {
            return;
        }
        String name = manager.settings().certificates().isEmpty() ? "on-demand"
                : manager.settings().certificates().get(0).name();
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        String base = "dev.autocert:type=CertificateManager,name=" + ObjectName.quote(name);
        try {
            ObjectName objectName = new ObjectName(base);
            try {
                server.registerMBean(this, objectName);
            } catch (javax.management.InstanceAlreadyExistsException e) {
                // another engine in this JVM for the same name (tests, several servers)
                objectName = new ObjectName(base + ",instance=" + INSTANCES.incrementAndGet());
                server.registerMBean(this, objectName);
            }
            registered = objectName;
            LOG.debug("Registered JMX bean {}", objectName);
        } catch (JMException | RuntimeException e) {
            LOG.debug("Cannot register the JMX bean of the engine for {}: {}", name, e.toString());
        }
    }

    synchronized void unregister() {
        if (registered == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(registered);
        } catch (JMException | RuntimeException e) {
            LOG.debug("Cannot unregister JMX bean {}: {}", registered, e.toString());
        }
        registered = null;
    }

    synchronized ObjectName objectName() {
        return registered;
    }

    @Override
    public boolean isHealthy() {
        return StatusPage.healthy(manager.status(), clock.instant());
    }

    @Override
    public String getStatus() {
        return StatusPage.json(manager.status(), clock.instant());
    }

    @Override
    public Map<String, Long> getSecondsUntilExpiry() {
        Map<String, Long> result = new LinkedHashMap<>();
        for (CertificateStatus status : manager.status()) {
            result.put(status.name(), Duration.between(clock.instant(), status.served().notAfter()).toSeconds());
        }
        return result;
    }

    @Override
    public long getObtained() {
        return manager.metrics().obtained();
    }

    @Override
    public long getRenewed() {
        return manager.metrics().renewed();
    }

    @Override
    public long getFailed() {
        return manager.metrics().failed();
    }

    @Override
    public Map<String, Long> getFailuresByCause() {
        return manager.metrics().failuresByCause();
    }

    @Override
    public long getAriChecks() {
        return manager.metrics().ariChecks();
    }

    @Override
    public long getAriFailures() {
        return manager.metrics().ariFailures();
    }

    @Override
    public List<String> getExpiring() {
        Instant now = clock.instant();
        return manager.status().stream().filter(status -> status.expiring(now)).map(CertificateStatus::name).toList();
    }

    @Override
    public long getChallengeRequestsAnswered() {
        return manager.metrics().challengeRequestsAnswered();
    }
}
