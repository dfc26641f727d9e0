//! The faults a scenario injects into the servers (worker kills are in `processes`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::config::{MYSQL_WORKER_USER, PG_APPLICATION};

/// MySQL's error for a `KILL` of a connection that is already gone.
const ER_NO_SUCH_THREAD: u16 = 1094;

/// Ends every Postgres connection of the workers; returns how many.
pub async fn terminate_worker_connections(harness_url: &str) -> Result<u64, String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(harness_url)
        .await
        .map_err(|e| format!("cannot connect to terminate backends: {e}"))?;
    let ended: i64 = sqlx::query_scalar(include_str!("../sql/terminate.sql"))
        .bind(PG_APPLICATION)
        .fetch_one(&mut conn)
        .await
        .map_err(|e| format!("pg_terminate_backend failed: {e}"))?;
    let _ = conn.close().await;
    Ok(ended.max(0) as u64)
}

/// Creates the MySQL user the workers log in as ([`MYSQL_WORKER_USER`]), if missing.
pub async fn create_mysql_worker_user(harness_url: &str) -> Result<(), String> {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::MySqlConnection::connect(harness_url)
        .await
        .map_err(|e| format!("cannot connect to create the workers' user: {e}"))?;
    // One statement at a time: the text protocol, without multi-statement support.
    for stmt in include_str!("../sql/mysql_worker_user.sql")
        .split(';')
        .map(strip_comments)
        .filter(|s| !s.is_empty())
    {
        conn.execute(stmt.as_str())
            .await
            .map_err(|e| format!("cannot create the workers' user: {e}"))?;
    }
    let _ = conn.close().await;
    Ok(())
}

/// `KILL CONNECTION` of every MySQL connection of the workers; returns how many ended.
pub async fn kill_mysql_worker_connections(harness_url: &str) -> Result<u64, String> {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::MySqlConnection::connect(harness_url)
        .await
        .map_err(|e| format!("cannot connect to kill connections: {e}"))?;
    let ids: Vec<i64> = sqlx::query_scalar(include_str!("../sql/mysql_worker_connections.sql"))
        .bind(MYSQL_WORKER_USER)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| format!("cannot list the workers' connections: {e}"))?;
    let mut ended = 0;
    for id in ids {
        // KILL takes no placeholder; the id is a number the server gave.
        match conn.execute(format!("KILL CONNECTION {id}").as_str()).await {
            Ok(_) => ended += 1,
            // It closed between the list and the kill.
            Err(sqlx::Error::Database(e))
                if e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .is_some_and(|e| e.number() == ER_NO_SUCH_THREAD) => {}
            Err(e) => return Err(format!("KILL CONNECTION {id} failed: {e}")),
        }
    }
    let _ = conn.close().await;
    Ok(ended)
}

/// A statement of a .sql file without its `--` comment lines.
fn strip_comments(stmt: &str) -> String {
    stmt.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// `CLIENT KILL TYPE normal` on the Redis at 127.0.0.1:`port`: drops every ordinary
/// client connection but the one asking (pub/sub listeners are left). Returns how many.
pub fn redis_client_kill(port: u16) -> Result<u64, String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| format!("cannot connect to Redis on port {port}: {e}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| format!("cannot set a read timeout: {e}"))?;
    let args = ["CLIENT", "KILL", "TYPE", "normal"];
    let mut msg = format!("*{}\r\n", args.len());
    for a in args {
        msg.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    conn.write_all(msg.as_bytes())
        .map_err(|e| format!("cannot send CLIENT KILL: {e}"))?;
    let mut reply = [0u8; 64];
    let n = conn
        .read(&mut reply)
        .map_err(|e| format!("no reply to CLIENT KILL: {e}"))?;
    parse_integer(&reply[..n])
}

/// A RESP integer reply (`:3\r\n`).
fn parse_integer(reply: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(reply);
    text.strip_prefix(':')
        .and_then(|t| t.trim_end().parse().ok())
        .ok_or_else(|| format!("unexpected reply to CLIENT KILL: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_integer_replies_and_rejects_errors() {
        assert_eq!(parse_integer(b":3\r\n"), Ok(3));
        assert!(parse_integer(b"-ERR no\r\n").is_err());
    }

    #[test]
    fn the_user_sql_names_the_workers_user() {
        let sql = include_str!("../sql/mysql_worker_user.sql");
        assert!(sql.contains(&format!("'{MYSQL_WORKER_USER}'@")));
        let stmts: Vec<String> = sql
            .split(';')
            .map(strip_comments)
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(stmts.len(), 2);
        assert!(stmts[0].starts_with("CREATE USER"));
    }
}
