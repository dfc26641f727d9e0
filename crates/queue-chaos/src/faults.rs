//! The faults a scenario injects into the servers (worker kills are in `processes`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::config::PG_APPLICATION;

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
}
