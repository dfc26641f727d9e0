//! The ledger: one append-only file per worker process, one line per event.
//!
//! ```text
//! S <pid> <seq> <job id> <attempt> <micros>     a handler run starts
//! E <pid> <seq> <micros> done|stopped           it ran to the end, or was stopped
//! ```
//!
//! `seq` numbers the runs of one process; `micros` is `SystemTime` in microseconds since
//! the Unix epoch, a clock every process of the machine shares. Each line goes to the
//! kernel in one `write` on a file opened with `O_APPEND`, and nothing is buffered in the
//! process, so a `SIGKILL` loses at most a partial last line, which [`read`] tolerates.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch: the clock of every ledger line and process fate.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// How a run ended, as its process recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndKind {
    /// The handler ran to the end (its result then went to the backend).
    Done,
    /// The handler was stopped before its end (lease lost, shutdown).
    Stopped,
}

/// One ledger line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A handler run starts.
    Start {
        /// The worker process.
        pid: u32,
        /// The run's number within its process.
        seq: u64,
        /// The job's id.
        job: String,
        /// The job's attempt (1 for the first claim).
        attempt: u32,
        /// When, in [`now_micros`].
        at: u64,
    },
    /// A handler run ends.
    End {
        /// The worker process.
        pid: u32,
        /// The run's number within its process.
        seq: u64,
        /// When, in [`now_micros`].
        at: u64,
        /// How.
        kind: EndKind,
    },
}

impl Event {
    /// The event as one ledger line, newline included.
    pub fn line(&self) -> String {
        match self {
            Event::Start {
                pid,
                seq,
                job,
                attempt,
                at,
            } => format!("S {pid} {seq} {job} {attempt} {at}\n"),
            Event::End { pid, seq, at, kind } => {
                let kind = match kind {
                    EndKind::Done => "done",
                    EndKind::Stopped => "stopped",
                };
                format!("E {pid} {seq} {at} {kind}\n")
            }
        }
    }

    /// Parses one line (without its newline).
    pub fn parse(line: &str) -> Result<Event, String> {
        let f: Vec<&str> = line.split(' ').collect();
        let num = |s: &str| s.parse::<u64>().map_err(|e| format!("{s:?}: {e}"));
        let bad = |why: String| format!("bad ledger line {line:?}: {why}");
        match f.as_slice() {
            ["S", pid, seq, job, attempt, at] => Ok(Event::Start {
                pid: num(pid).map_err(bad)? as u32,
                seq: num(seq).map_err(bad)?,
                job: job.to_string(),
                attempt: num(attempt).map_err(bad)? as u32,
                at: num(at).map_err(bad)?,
            }),
            ["E", pid, seq, at, kind] => Ok(Event::End {
                pid: num(pid).map_err(bad)? as u32,
                seq: num(seq).map_err(bad)?,
                at: num(at).map_err(bad)?,
                kind: match *kind {
                    "done" => EndKind::Done,
                    "stopped" => EndKind::Stopped,
                    other => return Err(bad(format!("unknown end {other:?}"))),
                },
            }),
            _ => Err(bad("unknown shape".into())),
        }
    }
}

/// A ledger as read back: its events, and whether a torn last line was dropped.
#[derive(Debug, Default)]
pub struct Read {
    /// The whole lines, in order.
    pub events: Vec<Event>,
    /// A partial last line was found (its process was killed mid-write) and ignored.
    pub torn: bool,
}

/// Parses a ledger's text. Every line but the last must be whole and valid; a last line
/// without its newline is a write cut short by a kill, and is ignored.
pub fn parse(text: &str) -> Result<Read, String> {
    let mut out = Read::default();
    let mut lines: Vec<&str> = text.split('\n').collect();
    // After the final newline comes "", or the torn rest of a line.
    if let Some(last) = lines.pop() {
        out.torn = !last.is_empty();
    }
    for line in lines {
        out.events.push(Event::parse(line)?);
    }
    Ok(out)
}

/// Reads the ledger at `path` (see [`parse`]).
pub fn read(path: &Path) -> Result<Read, String> {
    let text =
        std::fs::read(path).map_err(|e| format!("cannot read ledger {}: {e}", path.display()))?;
    let text = String::from_utf8(text)
        .map_err(|e| format!("ledger {} is not UTF-8: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Appends this process's events to its ledger.
pub struct Writer {
    file: Mutex<File>,
    pid: u32,
    next: AtomicU64,
}

impl Writer {
    /// Opens (creating) the ledger at `path` for appending.
    pub fn create(path: &Path) -> Result<Arc<Writer>, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open ledger {}: {e}", path.display()))?;
        Ok(Arc::new(Writer {
            file: Mutex::new(file),
            pid: std::process::id(),
            next: AtomicU64::new(0),
        }))
    }

    /// Records that a run of `job` (attempt `attempt`) starts; the guard records its end,
    /// however it ends (a stopped handler is dropped).
    pub fn start(self: &Arc<Self>, job: &str, attempt: u32) -> Run {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        self.append(&Event::Start {
            pid: self.pid,
            seq,
            job: job.to_string(),
            attempt,
            at: now_micros(),
        });
        Run {
            writer: self.clone(),
            seq,
            done: false,
        }
    }

    /// Writes one line in one `write`. A ledger that cannot be written proves nothing, so
    /// the process aborts: the harness sees it die and fails the scenario.
    fn append(&self, event: &Event) {
        let line = event.line();
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            eprintln!("chaos-worker: cannot write the ledger: {e}");
            std::process::abort();
        }
    }
}

/// One run in progress; its end is written when it is dropped.
pub struct Run {
    writer: Arc<Writer>,
    seq: u64,
    done: bool,
}

impl Run {
    /// The handler ran to the end.
    pub fn finish(mut self) {
        self.done = true;
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.writer.append(&Event::End {
            pid: self.writer.pid,
            seq: self.seq,
            at: now_micros(),
            kind: if self.done {
                EndKind::Done
            } else {
                EndKind::Stopped
            },
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn lines_round_trip() {
        let events = [
            Event::Start {
                pid: 7,
                seq: 3,
                job: "01J".into(),
                attempt: 2,
                at: 99,
            },
            Event::End {
                pid: 7,
                seq: 3,
                at: 120,
                kind: EndKind::Stopped,
            },
        ];
        for e in events {
            let line = e.line();
            assert_eq!(Event::parse(line.trim_end_matches('\n')).unwrap(), e);
        }
    }

    #[test]
    fn a_torn_last_line_is_ignored_but_a_torn_middle_line_is_an_error() {
        let read = parse("S 1 0 a 1 10\nE 1 0 12 done\nS 1 1 b 1 1").unwrap();
        assert_eq!(read.events.len(), 2);
        assert!(read.torn);
        let whole = parse("S 1 0 a 1 10\n").unwrap();
        assert!(!whole.torn);
        assert!(parse("S 1 0 a 1\nE 1 0 12 done\n").is_err());
        assert!(parse("").unwrap().events.is_empty());
    }

    #[test]
    fn the_writer_records_done_and_stopped_runs() {
        let path = std::env::temp_dir().join(format!("queue-chaos-ledger-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let w = Writer::create(&path).unwrap();
        w.start("a", 1).finish();
        drop(w.start("b", 2));
        let read = read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let ends: Vec<EndKind> = read
            .events
            .iter()
            .filter_map(|e| match e {
                Event::End { kind, .. } => Some(*kind),
                _ => None,
            })
            .collect();
        assert_eq!(read.events.len(), 4);
        assert_eq!(ends, [EndKind::Done, EndKind::Stopped]);
    }
}
