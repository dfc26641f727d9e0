//! Just enough of the Postgres wire protocol (v3, trust authentication, simple queries)
//! to tell when a server accepts connections and to create a database, so throw-away
//! servers need no client programs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Longest wait for the server to answer one step.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Protocol version 3.0.
const PROTOCOL: u32 = 196_608;
/// Larger messages are not expected from a fresh server; taken as a broken stream.
const MAX_MESSAGE: usize = 1 << 20;

/// A connection that has passed startup and waits for a query.
pub(crate) struct Conn {
    stream: TcpStream,
}

impl Conn {
    /// Connects as `user` to `database` on 127.0.0.1:`port`. Fails while the server starts
    /// up, shuts down or recovers, and when it asks for a password.
    pub(crate) fn open(port: u16, user: &str, database: &str) -> Result<Conn, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| format!("cannot set socket timeouts: {e}"))?;
        let mut conn = Conn { stream };
        let mut body = PROTOCOL.to_be_bytes().to_vec();
        for (key, value) in [("user", user), ("database", database)] {
            push_cstr(&mut body, key);
            push_cstr(&mut body, value);
        }
        body.push(0);
        conn.send(None, &body)?;
        conn.until_ready(true)?;
        Ok(conn)
    }

    /// Runs `sql` (one or more statements without parameters).
    pub(crate) fn execute(&mut self, sql: &str) -> Result<(), String> {
        let mut body = Vec::with_capacity(sql.len() + 1);
        push_cstr(&mut body, sql);
        self.send(Some(b'Q'), &body)?;
        self.until_ready(false)
    }

    /// Reads messages up to ReadyForQuery. An error at startup ends the connection; one
    /// in a query is followed by ReadyForQuery, and the first one is returned then.
    fn until_ready(&mut self, startup: bool) -> Result<(), String> {
        let mut error = None;
        loop {
            let (tag, body) = self.recv()?;
            match tag {
                b'Z' => return error.map_or(Ok(()), Err),
                b'E' if startup => return Err(error_text(&body)),
                b'E' => {
                    error.get_or_insert_with(|| error_text(&body));
                }
                b'R' if body.get(..4) != Some(&[0, 0, 0, 0]) => {
                    return Err("the server asks for a password (trust expected)".into());
                }
                _ => {}
            }
        }
    }

    fn send(&mut self, tag: Option<u8>, body: &[u8]) -> Result<(), String> {
        let len = u32::try_from(body.len() + 4).map_err(|_| "message too long".to_string())?;
        let mut msg = Vec::with_capacity(body.len() + 5);
        msg.extend(tag);
        msg.extend(len.to_be_bytes());
        msg.extend(body);
        self.stream
            .write_all(&msg)
            .map_err(|e| format!("cannot send to the server: {e}"))
    }

    fn recv(&mut self) -> Result<(u8, Vec<u8>), String> {
        let read_err = |e: std::io::Error| format!("the server closed the connection ({e})");
        let mut head = [0u8; 5];
        self.stream.read_exact(&mut head).map_err(read_err)?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if !(4..=MAX_MESSAGE).contains(&len) {
            return Err(format!("bad message length {len} from the server"));
        }
        let mut body = vec![0; len - 4];
        self.stream.read_exact(&mut body).map_err(read_err)?;
        Ok((head[0], body))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Terminate, so the server logs no "unexpected EOF".
        let _ = self.send(Some(b'X'), &[]);
    }
}

fn push_cstr(buf: &mut Vec<u8>, s: &str) {
    buf.extend(s.as_bytes());
    buf.push(0);
}

/// An ErrorResponse as "message (SQLSTATE code)".
fn error_text(body: &[u8]) -> String {
    let mut message = "";
    let mut code = "";
    for field in body.split(|b| *b == 0) {
        let Some((&kind, value)) = field.split_first() else {
            continue;
        };
        let value = std::str::from_utf8(value).unwrap_or("");
        match kind {
            b'M' => message = value,
            b'C' => code = value,
            _ => {}
        }
    }
    format!("{message} (SQLSTATE {code})")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn error_text_names_message_and_code() {
        let body = b"SFATAL\0C57P03\0Mthe database system is starting up\0\0";
        assert_eq!(
            error_text(body),
            "the database system is starting up (SQLSTATE 57P03)"
        );
    }

    #[test]
    fn nothing_listening_is_an_error() {
        let port = crate::host::free_port(&[]).unwrap();
        assert!(Conn::open(port, "postgres", "postgres").is_err());
    }
}
