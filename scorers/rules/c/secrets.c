#include <stdlib.h>
#include <string.h>
#include <mysql/mysql.h>

struct config { const char *db_password; const char *password_file; };

void connect_db(MYSQL *conn, struct config *cfg)
{
    // ruleid: pb.c.hardcoded-credential
    const char *password = "Sup3rS3cret!";
    // ruleid: pb.c.hardcoded-credential
    cfg->db_password = "hunter2hunter2";
    // ok: pb.c.hardcoded-credential
    cfg->password_file = "/etc/app/db.pass";
    // ok: pb.c.hardcoded-credential
    const char *env_pw = getenv("DB_PASSWORD");
    // ok: pb.c.hardcoded-credential
    const char *password_prompt = "Enter password:";
    (void)password; (void)env_pw; (void)password_prompt; (void)conn;
}

void api(void)
{
    // ruleid: pb.c.hardcoded-token-literal
    const char *k = "AKIAIOSFODNN7EXAMPLE";
    // ok: pb.c.hardcoded-token-literal
    const char *region = "us-east-1";
    (void)k; (void)region;
}

int check_admin(const char *password)
{
    // ruleid: pb.c.hardcoded-credential
    const char *admin_password = "Adm1nP@ssw0rd!";
    // ok: pb.c.hardcoded-credential
    const char *min_password_len = "12";
    return strcmp(password, admin_password) == 0 && min_password_len[0] != '\0';
}
