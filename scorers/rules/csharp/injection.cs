using System;
using System.Data.SqlClient;
using System.Diagnostics;
using System.Text;
using System.Xml;

public class Repo
{
    public void Find(SqlConnection conn, string name, int id)
    {
        // ruleid: pb.csharp.sql-injection
        var cmd = new SqlCommand("SELECT * FROM users WHERE name = '" + name + "'", conn);
        // ruleid: pb.csharp.sql-injection
        var cmd2 = new SqlCommand($"SELECT * FROM users WHERE id = {id}", conn);
        string sql = string.Format("DELETE FROM logs WHERE id = {0}", id);
        // ruleid: pb.csharp.sql-injection
        cmd.CommandText = sql;
        // ok: pb.csharp.sql-injection
        var safe = new SqlCommand("SELECT * FROM users WHERE name = @name", conn);
        safe.Parameters.AddWithValue("@name", name);
        const string query = "SELECT COUNT(*) FROM users";
        // ok: pb.csharp.sql-injection
        var safe2 = new SqlCommand(query, conn);
    }

    public void Builder(SqlConnection conn, string table)
    {
        var sb = new StringBuilder();
        sb.Append("SELECT * FROM ");
        sb.Append(table);
        // ruleid: pb.csharp.sql-injection
        using (var c = new SqlCommand(sb.ToString(), conn)) { c.ExecuteNonQuery(); }
    }

    public int Exec(SqlConnection conn, string sqlText)
    {
        // ruleid: pb.csharp.sql-injection
        using (var c = new SqlCommand(sqlText, conn)) { return c.ExecuteNonQuery(); }
    }

    public int ById(SqlConnection conn, string id)
    {
        // ok: pb.csharp.sql-injection
        using (var c = new SqlCommand("DELETE FROM t WHERE id = @id", conn))
        {
            c.Parameters.AddWithValue("@id", id);
            return c.ExecuteNonQuery();
        }
    }

    public void Run(string fileName, string userArgs)
    {
        // ruleid: pb.csharp.command-injection
        Process.Start(fileName);
        // ruleid: pb.csharp.command-injection
        Process.Start("cmd.exe", "/c " + userArgs);
        var p = new Process();
        // ruleid: pb.csharp.command-injection
        p.StartInfo.Arguments = userArgs;
        // ok: pb.csharp.command-injection
        p.StartInfo.FileName = "git";
        // ok: pb.csharp.command-injection
        Process.Start("notepad.exe");
        var psi = new ProcessStartInfo("git");
        psi.ArgumentList.Add("log");
        // ok: pb.csharp.command-injection
        Process.Start(psi);
    }

    public XmlNode Lookup(XmlDocument doc, string user)
    {
        // ruleid: pb.csharp.xpath-injection
        var n = doc.SelectSingleNode("//users/user[@name='" + user + "']");
        // ok: pb.csharp.xpath-injection
        var all = doc.SelectNodes("//users/user");
        return n;
    }
}
