import java.sql.*;
import javax.crypto.spec.SecretKeySpec;

public class CoreSecrets {
    // ruleid: pb.java.hardcoded-api-key, pb.java.hardcoded-password
    private static final String YOUTUBE_API_KEY = "AIzaSyC1rMU-mkhoyTvBIdTnYU0dss0tU9vtK48";
    // ok: pb.java.hardcoded-api-key
    private static final String MAPS_KEY = System.getenv("MAPS_API_KEY");

    // ruleid: pb.java.hardcoded-password
    private static final String DB_PASSWORD = "s3cr3tP@ss";
    // ok: pb.java.hardcoded-password
    private static final String DB_PASSWORD_ENV = System.getenv("DB_PASSWORD");

    Connection open(String url) throws SQLException {
        // ruleid: pb.java.hardcoded-password
        Connection c = DriverManager.getConnection(url, "admin", "hunter22");
        // ok: pb.java.hardcoded-password
        Connection c2 = DriverManager.getConnection(url, "admin", System.getenv("DB_PASS"));
        // ruleid: pb.java.hardcoded-password
        SecretKeySpec k = new SecretKeySpec("0123456789abcdef".getBytes(), "AES");
        return c;
    }
}
