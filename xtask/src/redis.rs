//! Redis for the tests: throw-away servers from the local `redis-server`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::throwaway::{log_tail, Throwaway};

/// How long a fresh server gets to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a Redis on 127.0.0.1:`port` answers PING (plain RESP, so no redis-cli needed).
pub fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = [0u8; 7];
    conn.write_all(b"PING\r\n").is_ok()
        && conn.read_exact(&mut reply).is_ok()
        && reply == *b"+PONG\r\n"
}

/// Starts a throw-away server on a free port and returns its URL.
pub fn start(t: &Throwaway) -> Result<String, String> {
    let bin = crate::host::which("redis-server").ok_or("no `redis-server` binary found")?;
    let dir = t.subdir("redis")?;
    let port = t.port()?;
    let log = dir.join("redis.log");
    // Nothing on disk (no RDB snapshots, no AOF): the data is thrown away.
    let mut server = Command::new(bin);
    server
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(&dir)
        .current_dir(&dir);
    t.spawn("redis", &mut server, "TERM", &log)?;
    let deadline = Instant::now() + START_TIMEOUT;
    while !ping(port) {
        if let Some(status) = t.exited("redis") {
            return Err(format!(
                "redis-server exited ({status}); {}",
                log_tail(&log)
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "redis-server did not answer PING within {}s; {}",
                START_TIMEOUT.as_secs(),
                log_tail(&log)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(format!("redis://127.0.0.1:{port}"))
}
