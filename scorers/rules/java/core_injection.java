import java.io.*;
import java.sql.*;
import java.util.Arrays;
import javax.servlet.http.*;
import javax.xml.xpath.*;
import org.owasp.encoder.Encode;

public class CoreInjection extends HttpServlet {
    void cmd(String host, String[] argv, String file) throws Exception {
        String cmd = "ping -c 1 " + host;
        // ruleid: pb.java.runtime-exec-non-literal
        Process p = Runtime.getRuntime().exec(cmd);
        // ruleid: pb.java.runtime-exec-non-literal
        Runtime.getRuntime().exec(argv, null, new File("/tmp"));
        // ok: pb.java.runtime-exec-non-literal
        Process q = Runtime.getRuntime().exec("uptime");
        // ok: pb.java.runtime-exec-non-literal
        Process q2 = Runtime.getRuntime().exec(new String[] {"ls", "-l"});
        // ruleid: pb.java.shell-command-injection, pb.java.runtime-exec-non-literal
        Runtime.getRuntime().exec("kill " + host);
        // ruleid: pb.java.shell-command-injection, pb.java.processbuilder-shell-c
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "grep " + host + " /etc/hosts");
        // ok: pb.java.shell-command-injection
        ProcessBuilder pb2 = new ProcessBuilder("ping", "-c", "1", host);
        // ruleid: pb.java.processbuilder-shell-c
        ProcessBuilder pb3 = new ProcessBuilder("/bin/sh", "-c", cmd);
        // ok: pb.java.processbuilder-shell-c
        ProcessBuilder pb4 = new ProcessBuilder("sh", "-c", "ls -l /tmp");
    }

    void sql(Connection conn, String name) throws SQLException {
        Statement stmt = conn.createStatement();
        // ruleid: pb.java.sql-injection-concat
        ResultSet rs = stmt.executeQuery("SELECT * FROM users WHERE name = '" + name + "'");
        String q = "DELETE FROM users WHERE name = '" + name + "'";
        // ruleid: pb.java.sql-injection-concat
        stmt.executeUpdate(q);
        // ok: pb.java.sql-injection-concat
        PreparedStatement ps = conn.prepareStatement("SELECT * FROM users WHERE name = ?");
        ps.setString(1, name);
        // ok: pb.java.sql-injection-concat
        ResultSet rs2 = stmt.executeQuery("SELECT COUNT(*) FROM users");
    }

    void xpath(XPath xpath, String user, org.w3c.dom.Document doc) throws Exception {
        // ruleid: pb.java.xpath-injection
        XPathExpression e = xpath.compile("//user[@name='" + user + "']");
        // ok: pb.java.xpath-injection
        XPathExpression e2 = xpath.compile("//user[@name=$name]");
    }

    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        // ruleid: pb.java.servlet-reflected-xss
        resp.getWriter().print("Hello " + req.getParameter("name"));
        String q = req.getParameter("q");
        PrintWriter out = resp.getWriter();
        // ruleid: pb.java.servlet-reflected-xss
        out.println("<p>Results for " + q + "</p>");
        // ok: pb.java.servlet-reflected-xss
        out.println("<p>Results for " + Encode.forHtml(q) + "</p>");
        try {
            doWork();
        } catch (Exception ex) {
            // ruleid: pb.java.response-writes-request-init-param
            resp.sendError(500, "Exception: " + ex.toString());
            // ok: pb.java.response-writes-request-init-param
            resp.sendError(500, "Internal error");
        }
    }
}
