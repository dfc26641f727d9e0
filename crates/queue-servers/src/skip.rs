//! `QUEUE_SKIP_SERVERS=1`: the explicit opt-out for machines without the servers.

/// The variable that, set to 1, leaves out what needs a server.
pub const SKIP_VAR: &str = "QUEUE_SKIP_SERVERS";

/// Whether `QUEUE_SKIP_SERVERS=1` is set.
pub fn skip_requested() -> bool {
    std::env::var(SKIP_VAR).is_ok_and(|v| v == "1")
}

/// `start()`, unless the binaries of `what` are missing and skipping was asked for.
pub(crate) fn unless_skipped<T>(
    what: &str,
    available: bool,
    start: impl FnOnce() -> Result<T, String>,
) -> Result<Option<T>, String> {
    if !available && skip_requested() {
        eprintln!("note: no {what} binaries and {SKIP_VAR}=1: skipping what needs {what}");
        return Ok(None);
    }
    start().map(Some)
}
