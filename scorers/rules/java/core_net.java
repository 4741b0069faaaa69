import java.io.*;
import java.net.*;
import javax.net.ssl.*;
import java.security.cert.X509Certificate;

public class CoreNet {
    static final String API = "https://api.example.com/v1";

    InputStream fetch(String endpoint, String base, String loc) throws Exception {
        // ruleid: pb.java.ssrf-url-open
        HttpURLConnection conn = (HttpURLConnection) new URL(endpoint).openConnection();
        // ruleid: pb.java.ssrf-url-open
        HttpURLConnection con = (HttpURLConnection) (new URL(base + loc)).openConnection();
        URL u = new URL(endpoint);
        // ruleid: pb.java.ssrf-url-open
        InputStream in = u.openStream();
        // ok: pb.java.ssrf-url-open
        InputStream in2 = new URL("https://api.example.com/status").openStream();
        // ok: pb.java.ssrf-url-open
        URLConnection c3 = new URL(API).openConnection();
        return in;
    }

    void sock(String host, int port) throws Exception {
        Socket s = new Socket();
        // ruleid: pb.java.ssrf-socket-connect
        s.connect(new InetSocketAddress(host, port), 1000);
        // ok: pb.java.ssrf-socket-connect
        s.connect(new InetSocketAddress("db.internal", 5432), 1000);
        ServerSocket ss = new ServerSocket();
        // ok: pb.java.ssrf-socket-connect
        ss.bind(new InetSocketAddress(host, port));
    }

    void tls(HttpsURLConnection c) {
        // ruleid: pb.java.hostname-verifier-disabled
        c.setHostnameVerifier((hostname, session) -> true);
        // ruleid: pb.java.hostname-verifier-disabled
        c.setHostnameVerifier(new HostnameVerifier() {
            public boolean verify(String h, SSLSession s) { return true; }
        });
        // ok: pb.java.hostname-verifier-disabled
        c.setHostnameVerifier(HttpsURLConnection.getDefaultHostnameVerifier());
    }

    TrustManager[] trustAll = new TrustManager[] {
        new X509TrustManager() {
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}
            // ruleid: pb.java.trust-all-certificates
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}
        }
    };

    class PinningTm implements X509TrustManager {
        X509TrustManager delegate;
        public X509Certificate[] getAcceptedIssuers() { return delegate.getAcceptedIssuers(); }
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException { delegate.checkClientTrusted(chain, authType); }
        // ok: pb.java.trust-all-certificates
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException { delegate.checkServerTrusted(chain, authType); }
    }
}
