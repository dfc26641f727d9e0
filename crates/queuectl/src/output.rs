//! Writing results: aligned tables and times for people, one JSON document per line for
//! scripts. A closed stdout (`queuectl list | head -1`) ends the output quietly.

use std::io::{ErrorKind, IsTerminal, Write};
use std::time::Duration;

use serde::Serialize;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::error::CliError;

/// Longest cell a table shows; longer text (an error message) is cut with `…`.
const MAX_CELL: usize = 60;

/// How times are shown to people: UTC, to the second.
const TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");

/// Writes `text` and a newline to stdout.
pub fn line(text: &str) -> Result<(), CliError> {
    write_out(format!("{text}\n").as_bytes())
}

/// Writes `value` as one line of JSON to stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let mut text = serde_json::to_string(value)
        .map_err(|e| CliError::failed(format!("cannot write JSON: {e}")))?;
    text.push('\n');
    write_out(text.as_bytes())
}

/// Writes raw bytes to stdout and flushes; a closed pipe is not an error.
pub fn write_out(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::failed(format!("cannot write the output: {e}"))),
    }
}

/// Whether stdout is a terminal (a person watches) rather than a pipe or file.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// A time for people: `2026-11-29 10:00:00Z`.
pub fn time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(TIME)
        .unwrap_or_else(|_| t.to_string())
}

/// How far `t` is from `now`, for people: `5m ago`, `in 2h`, `now`.
pub fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let diff = now - t;
    let secs = diff.whole_seconds();
    if secs == 0 {
        return "now".into();
    }
    let span = crate::duration::format(Duration::from_secs(secs.unsigned_abs()));
    if secs > 0 {
        format!("{span} ago")
    } else {
        format!("in {span}")
    }
}

/// A time with its distance from now: `2026-11-29 10:00:00Z (5m ago)`.
pub fn time_and_relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    format!("{} ({})", time(t), relative(t, now))
}

/// A table with a header row and columns padded to their widest cell.
pub struct Table {
    headers: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers, every column aligned left.
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            right: vec![false; headers.len()],
            rows: Vec::new(),
        }
    }

    /// Aligns the columns at these indexes right (numbers).
    pub fn align_right(mut self, columns: &[usize]) -> Table {
        for &c in columns {
            if let Some(r) = self.right.get_mut(c) {
                *r = true;
            }
        }
        self
    }

    /// Adds a row; control characters become spaces and long cells are cut.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|c| cell(&c)).collect());
    }

    /// The table as text, one line per row, without trailing spaces.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, (c, w)) in row.iter().zip(&widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = w.saturating_sub(c.chars().count());
                if self.right[i] {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Text made fit for one cell: one line, at most [`MAX_CELL`] characters.
fn cell(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= MAX_CELL {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_CELL - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn columns_line_up_and_numbers_align_right() {
        let mut t = Table::new(&["STATE", "JOBS"]).align_right(&[1]);
        t.row(vec!["pending".into(), "12".into()]);
        t.row(vec!["failed".into(), "1024".into()]);
        assert_eq!(t.render(), "STATE    JOBS\npending    12\nfailed   1024\n");
    }

    #[test]
    fn cells_are_one_short_line() {
        let mut t = Table::new(&["ERROR"]);
        t.row(vec![format!("line one\nline two {}", "x".repeat(100))]);
        let shown = t.render();
        let row = shown.lines().nth(1).unwrap_or_default();
        assert!(row.starts_with("line one line two"), "{row}");
        assert_eq!(row.chars().count(), MAX_CELL);
        assert!(row.ends_with('…'));
    }

    #[test]
    fn times_are_utc_and_relative() {
        let now = datetime!(2026-11-29 10:00:00 UTC);
        assert_eq!(
            time(datetime!(2026-11-29 12:00:00 +2)),
            "2026-11-29 10:00:00Z"
        );
        assert_eq!(relative(datetime!(2026-11-29 09:55:00 UTC), now), "5m ago");
        assert_eq!(relative(datetime!(2026-11-29 12:00:00 UTC), now), "in 2h");
        assert_eq!(relative(now, now), "now");
    }
}
