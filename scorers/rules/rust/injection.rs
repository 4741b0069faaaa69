use std::process::Command;

fn ping(host: &str) {
    // ruleid: pb.rust.command-injection
    Command::new("sh").arg("-c").arg(format!("ping -c 1 {}", host)).status().unwrap();
    // ok: pb.rust.command-injection
    Command::new("ping").arg("-c").arg("1").arg(host).status().unwrap();
}

fn run_tool(tool: &str) {
    // ruleid: pb.rust.command-injection
    Command::new(tool).arg("--version").status().unwrap();
}

fn find_user(conn: &rusqlite::Connection, name: &str) {
    // ruleid: pb.rust.sql-injection
    conn.execute(&format!("DELETE FROM users WHERE name = '{}'", name), []).unwrap();
    // ok: pb.rust.sql-injection
    conn.execute("DELETE FROM users WHERE name = ?1", [name]).unwrap();
}

async fn load(pool: &sqlx::PgPool, id: &str) {
    let sql = format!("SELECT * FROM items WHERE id = {}", id);
    // ruleid: pb.rust.sql-injection
    sqlx::query(&sql).fetch_all(pool).await.unwrap();
    // ok: pb.rust.sql-injection
    sqlx::query("SELECT * FROM items WHERE id = $1").bind(id).fetch_all(pool).await.unwrap();
}
