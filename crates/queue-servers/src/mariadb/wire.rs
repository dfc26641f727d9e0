//! Just enough of the MySQL client/server protocol (protocol 41, an empty password) to
//! tell when a server accepts connections, so throw-away servers need no client programs;
//! and, for the tests, text queries to check what a server keeps.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Longest wait for the server to answer one step.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Larger packets are not expected from a fresh server; taken as a broken stream.
const MAX_PACKET: usize = 1 << 20;
/// The handshake's protocol version since MySQL 3.21.
const PROTOCOL: u8 = 10;

const CLIENT_LONG_PASSWORD: u32 = 0x1;
const CLIENT_CONNECT_WITH_DB: u32 = 0x8;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_TRANSACTIONS: u32 = 0x2000;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x8_0000;

/// utf8mb4_general_ci, known to MySQL and MariaDB alike.
const CHARSET: u8 = 45;
/// The plugin whose answer for an empty password is empty.
const AUTH_PLUGIN: &str = "mysql_native_password";

const COM_QUIT: u8 = 0x01;
#[cfg(test)]
const COM_QUERY: u8 = 0x03;

const OK: u8 = 0x00;
const EOF: u8 = 0xfe;
const ERR: u8 = 0xff;

/// One row of a text result set; `None` is SQL NULL.
#[cfg(test)]
pub(crate) type Row = Vec<Option<String>>;

/// A logged-in connection that waits for a query.
pub(crate) struct Conn {
    stream: TcpStream,
    /// The sequence number of the next packet sent.
    seq: u8,
}

impl Conn {
    /// Logs in as `user` with an empty password on 127.0.0.1:`port`, into `database` when
    /// given. Fails while the server starts up or shuts down, when the database is not
    /// there yet, and when a password is wanted.
    pub(crate) fn open(port: u16, user: &str, database: Option<&str>) -> Result<Conn, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| format!("cannot set socket timeouts: {e}"))?;
        let mut conn = Conn { stream, seq: 0 };
        let greeting = conn.recv()?;
        match greeting.first() {
            Some(&PROTOCOL) => {}
            Some(&ERR) => return Err(error_text(&greeting)),
            _ => return Err("not a MySQL handshake".into()),
        }
        conn.send(&login(user, database))?;
        let mut reply = conn.recv()?;
        if reply.first() == Some(&EOF) {
            // An auth switch request: with an empty password, every plugin's answer is
            // empty too.
            conn.send(&[])?;
            reply = conn.recv()?;
        }
        match reply.first() {
            Some(&OK) => Ok(conn),
            Some(&ERR) => Err(error_text(&reply)),
            _ => Err("the server asks for more than an empty password".into()),
        }
    }

    /// Runs one statement; returns the rows of its result set (none for a statement
    /// without one).
    #[cfg(test)]
    pub(crate) fn query(&mut self, sql: &str) -> Result<Vec<Row>, String> {
        self.seq = 0;
        let mut body = Vec::with_capacity(sql.len() + 1);
        body.push(COM_QUERY);
        body.extend(sql.as_bytes());
        self.send(&body)?;
        let first = self.recv()?;
        match first.first() {
            Some(&OK) => return Ok(Vec::new()),
            Some(&ERR) => return Err(error_text(&first)),
            _ => {}
        }
        let mut pos = 0;
        let columns = lenenc_int(&first, &mut pos).ok_or("a bad column count")?;
        for _ in 0..columns {
            self.recv()?;
        }
        // The column definitions end with an EOF packet (no CLIENT_DEPRECATE_EOF).
        self.recv()?;
        let mut rows = Vec::new();
        loop {
            let packet = self.recv()?;
            match packet.first() {
                Some(&EOF) if packet.len() < 9 => return Ok(rows),
                Some(&ERR) => return Err(error_text(&packet)),
                _ => rows.push(row(&packet, columns)?),
            }
        }
    }

    fn send(&mut self, payload: &[u8]) -> Result<(), String> {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|&n| n < 1 << 24)
            .ok_or("packet too long")?;
        let mut msg = Vec::with_capacity(payload.len() + 4);
        msg.extend(&len.to_le_bytes()[..3]);
        msg.push(self.seq);
        msg.extend(payload);
        self.seq = self.seq.wrapping_add(1);
        self.stream
            .write_all(&msg)
            .map_err(|e| format!("cannot send to the server: {e}"))
    }

    fn recv(&mut self) -> Result<Vec<u8>, String> {
        let read_err = |e: std::io::Error| format!("the server closed the connection ({e})");
        let mut head = [0u8; 4];
        self.stream.read_exact(&mut head).map_err(read_err)?;
        let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
        if len > MAX_PACKET {
            return Err(format!("bad packet length {len} from the server"));
        }
        self.seq = head[3].wrapping_add(1);
        let mut payload = vec![0; len];
        self.stream.read_exact(&mut payload).map_err(read_err)?;
        Ok(payload)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // COM_QUIT, so the server counts no aborted connection.
        self.seq = 0;
        let _ = self.send(&[COM_QUIT]);
    }
}

/// The handshake response: an empty password, answered for [`AUTH_PLUGIN`].
fn login(user: &str, database: Option<&str>) -> Vec<u8> {
    let mut flags = CLIENT_LONG_PASSWORD
        | CLIENT_PROTOCOL_41
        | CLIENT_TRANSACTIONS
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH;
    if database.is_some() {
        flags |= CLIENT_CONNECT_WITH_DB;
    }
    let mut body = Vec::with_capacity(64);
    body.extend(flags.to_le_bytes());
    body.extend((MAX_PACKET as u32).to_le_bytes());
    body.push(CHARSET);
    body.extend([0u8; 23]);
    push_cstr(&mut body, user);
    // The auth response's length: none for an empty password.
    body.push(0);
    if let Some(db) = database {
        push_cstr(&mut body, db);
    }
    push_cstr(&mut body, AUTH_PLUGIN);
    body
}

fn push_cstr(buf: &mut Vec<u8>, s: &str) {
    buf.extend(s.as_bytes());
    buf.push(0);
}

/// A length-encoded integer at `pos`, which moves past it.
#[cfg(test)]
fn lenenc_int(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *buf.get(*pos)?;
    let width = match first {
        0..=0xfa => {
            *pos += 1;
            return Some(u64::from(first));
        }
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        _ => return None,
    };
    let bytes = buf.get(*pos + 1..*pos + 1 + width)?;
    *pos += 1 + width;
    let mut le = [0u8; 8];
    le[..width].copy_from_slice(bytes);
    Some(u64::from_le_bytes(le))
}

/// A text-protocol row of `columns` values.
#[cfg(test)]
fn row(packet: &[u8], columns: u64) -> Result<Row, String> {
    let mut pos = 0;
    let mut values = Vec::new();
    for _ in 0..columns {
        // 0xfb stands for NULL.
        if packet.get(pos) == Some(&0xfb) {
            pos += 1;
            values.push(None);
            continue;
        }
        let len = lenenc_int(packet, &mut pos)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or("a bad row from the server")?;
        let value = packet
            .get(pos..pos + len)
            .ok_or("a short row from the server")?;
        pos += len;
        values.push(Some(String::from_utf8_lossy(value).into_owned()));
    }
    Ok(values)
}

/// An ERR packet as "message (error code, SQLSTATE state)"; the state is absent from
/// errors sent before the handshake.
fn error_text(packet: &[u8]) -> String {
    let code = match packet.get(1..3) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => return "a malformed error from the server".into(),
    };
    let rest = &packet[3..];
    let (state, message) = match rest.split_first() {
        Some((b'#', tail)) if tail.len() >= 5 => (
            Some(String::from_utf8_lossy(&tail[..5]).into_owned()),
            &tail[5..],
        ),
        _ => (None, rest),
    };
    let message = String::from_utf8_lossy(message);
    match state {
        Some(state) => format!("{message} (error {code}, SQLSTATE {state})"),
        None => format!("{message} (error {code})"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn error_text_names_message_code_and_state() {
        let packet = b"\xff\x19\x04#42000Unknown database 'x'";
        assert_eq!(
            error_text(packet),
            "Unknown database 'x' (error 1049, SQLSTATE 42000)"
        );
        let early = b"\xff\x10\x04Too many connections";
        assert_eq!(error_text(early), "Too many connections (error 1040)");
    }

    #[test]
    fn reads_length_encoded_values_and_nulls() {
        let mut pos = 0;
        assert_eq!(lenenc_int(&[0xfc, 0x10, 0x27], &mut pos), Some(10_000));
        assert_eq!(pos, 3);
        let got = row(b"\x01a\xfb\x02bc", 3).unwrap();
        assert_eq!(got, [Some("a".into()), None, Some("bc".into())]);
        assert!(row(b"\x05ab", 1).is_err());
    }

    #[test]
    fn nothing_listening_is_an_error() {
        let port = crate::host::free_port(&[]).unwrap();
        assert!(Conn::open(port, "root", None).is_err());
    }
}
