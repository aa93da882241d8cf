package dev.autocert.core;

import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;

/** Verifies certificate chains the way a TLS client does (PKIX), against a given root. */
final class Chains {

    private Chains() {
    }

    /** Throws unless {@code chain} (leaf first, root left out) leads to {@code root}. */
    static void verify(List<X509Certificate> chain, X509Certificate root) throws Exception {
        var path = CertificateFactory.getInstance("X.509").generateCertPath(chain);
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(path, parameters);
    }
}
