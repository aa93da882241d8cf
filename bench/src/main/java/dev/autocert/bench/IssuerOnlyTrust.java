package dev.autocert.bench;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A benchmark client's trust: the served leaf must name {@code authority} as its issuer (or be
 * issued by anyone when authority is null); no signature is checked, so the client's cost does
 * not depend on how many certificates the server holds. Never for anything but benchmarks.
 */
final class IssuerOnlyTrust extends X509ExtendedTrustManager {

    private final X509Certificate authority;

    IssuerOnlyTrust(X509Certificate authority) {
        this.authority = authority;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain.length == 0) {
            throw new CertificateException("no certificate served");
        }
        if (authority != null && !chain[0].getIssuerX500Principal().equals(authority.getSubjectX500Principal())) {
            throw new CertificateException("served a leaf of " + chain[0].getIssuerX500Principal());
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("a client only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("a client only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
