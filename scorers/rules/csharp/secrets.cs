using System.Data.SqlClient;
using System.Net;

public class Config
{
    // ruleid: pb.csharp.hardcoded-credential
    private const string ApiKey = "d41d8cd98f00b204e9800998ecf8427e";
    // ok: pb.csharp.hardcoded-credential
    private const string ApiKeyHeader = "X-Api-Key";

    public SqlConnection Open(string user)
    {
        // ruleid: pb.csharp.hardcoded-credential
        var conn = new SqlConnection("Server=db;Database=app;User Id=sa;Password=P@ssw0rd1;");
        // ok: pb.csharp.hardcoded-credential
        var conn2 = new SqlConnection(System.Environment.GetEnvironmentVariable("DB_CONN"));
        // ruleid: pb.csharp.hardcoded-credential
        var cred = new NetworkCredential(user, "Winter2024!");
        return conn;
    }

    public void Tokens()
    {
        // ruleid: pb.csharp.hardcoded-token-literal
        var token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
        // ok: pb.csharp.hardcoded-token-literal
        var greeting = "hello world";
    }
}
