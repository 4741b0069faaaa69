#include <stdlib.h>
#include <string.h>
#include <mysql/mysql.h>

struct config { const char *db_password; const char *password_file; };

void connect_db(MYSQL *conn, struct config *cfg)
{
    // ruleid: pb.cpp.hardcoded-credential
    const char *password = "Sup3rS3cret!";
    // ruleid: pb.cpp.hardcoded-credential
    cfg->db_password = "hunter2hunter2";
    // ok: pb.cpp.hardcoded-credential
    cfg->password_file = "/etc/app/db.pass";
    // ok: pb.cpp.hardcoded-credential
    const char *env_pw = getenv("DB_PASSWORD");
    // ok: pb.cpp.hardcoded-credential
    const char *password_prompt = "Enter password:";
    (void)password; (void)env_pw; (void)password_prompt; (void)conn;
}

void api(void)
{
    // ruleid: pb.cpp.hardcoded-token-literal
    const char *k = "AKIAIOSFODNN7EXAMPLE";
    // ok: pb.cpp.hardcoded-token-literal
    const char *region = "us-east-1";
    (void)k; (void)region;
}

#include <string>

struct ClientInfo { std::string client_secret; std::string client_id; };

void creds(ClientInfo &info)
{
    // ruleid: pb.cpp.hardcoded-credential
    std::string password = "password123";
    // ruleid: pb.cpp.hardcoded-credential
    info.client_secret = "test_client_secret";
    // ok: pb.cpp.hardcoded-credential
    info.client_id = "my-app";
    // ok: pb.cpp.hardcoded-credential
    std::string pw = std::getenv("APP_PASSWORD");
}

#include <cstdlib>
#include <string>

bool check_admin(const std::string &password)
{
    // ruleid: pb.cpp.hardcoded-credential
    const std::string admin_password = "Adm1nP@ssw0rd!";
    // ruleid: pb.cpp.hardcoded-credential
    std::string account_token = "tok_9f8e7d6c5b4a";
    // ok: pb.cpp.hardcoded-credential
    const std::string min_password_length = "12chars";
    // ok: pb.cpp.hardcoded-credential
    const char *expected = std::getenv("ADMIN_PASSWORD");
    return password == admin_password || (expected && password == expected) ||
           account_token == min_password_length;
}
