//! Printing an error with its causes on one line, the way logs and command lines want it.

use std::error::Error;
use std::fmt;

/// Displays an error followed by each of its [`Error::source`]s, joined by `": "`:
/// `backend error: error returned from database: relation "jobs" does not exist`.
///
/// Our errors never repeat their source in their own text, but some drivers do (their
/// `Display` ends with the text of the error they also return as source); a cause whose
/// text the line already ends with is skipped, so nothing is printed twice.
///
/// ```
/// use queue_core::{ErrorChain, QueueError};
///
/// let e = QueueError::backend(std::io::Error::other("connection reset"));
/// assert_eq!(e.to_string(), "backend error");
/// assert_eq!(ErrorChain(&e).to_string(), "backend error: connection reset");
/// ```
#[derive(Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = self.0.to_string();
        f.write_str(&last)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !last.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            next = cause.source();
        }
        Ok(())
    }
}

impl fmt::Debug for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that prints its source in its own text too, as some drivers' errors do.
    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl fmt::Display for Repeats {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "error communicating with database: {}", self.0)
        }
    }

    impl Error for Repeats {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_the_line_already_ends_with_is_not_printed_again() {
        let e = crate::QueueError::backend(Repeats(std::io::Error::other("refused")));
        assert_eq!(
            ErrorChain(&e).to_string(),
            "backend error: error communicating with database: refused"
        );
    }
}
