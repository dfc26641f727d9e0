//! The rules a job kind follows, checked at compile time.
//!
//! They mirror `queue_core::validate_kind`, which this crate cannot call (queue-core
//! depends on it); the tests of this crate check that both agree at the limits.

/// Longest accepted job kind, in bytes (`queue_core::MAX_KIND_LEN`).
const MAX_KIND_LEN: usize = 255;

/// Why `kind` is not a valid job kind, if it is not.
pub(crate) fn problem(kind: &str) -> Option<String> {
    if kind.is_empty() {
        return Some("the job kind is empty".into());
    }
    if kind.len() > MAX_KIND_LEN {
        return Some(format!(
            "the job kind is {} bytes; the limit is {MAX_KIND_LEN}",
            kind.len()
        ));
    }
    if kind.chars().any(char::is_control) {
        return Some(format!("the job kind {kind:?} has control characters"));
    }
    if kind.trim() != kind {
        return Some(format!(
            "the job kind {kind:?} starts or ends with whitespace"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(problem("email"), None);
        assert_eq!(problem(&"k".repeat(MAX_KIND_LEN)), None);
        assert!(problem(&"k".repeat(MAX_KIND_LEN + 1)).is_some());
        assert!(problem("").is_some());
        assert!(problem(" email").is_some());
        assert!(problem("e\nmail").is_some());
    }
}
