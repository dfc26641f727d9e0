//! What a command that did not succeed reports: a message that says what to do next, and
//! the exit code (1: the operation failed, 2: the command line was wrong).

use std::fmt;
use std::process::ExitCode;

use queue_core::{ErrorChain, JobId, QueueError};

/// How a command ended badly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The operation failed, or found nothing to do where it had to: exit code 1.
    Failed,
    /// The command line was wrong (as clap's own errors): exit code 2.
    Usage,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        match exit {
            Exit::Failed => ExitCode::from(1),
            Exit::Usage => ExitCode::from(2),
        }
    }
}

/// An error for the person at the terminal (or the script): printed on stderr, never with
/// a password (see [`crate::scrub`]).
#[derive(Debug)]
pub struct CliError {
    /// What happened and what to do next.
    pub message: String,
    /// The exit code it maps to.
    pub exit: Exit,
}

impl CliError {
    /// The operation failed: exit code 1.
    pub fn failed(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            exit: Exit::Failed,
        }
    }

    /// The command line was wrong: exit code 2.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            exit: Exit::Usage,
        }
    }

    /// `command` found no job with `id`.
    pub fn no_job(command: &str, id: JobId) -> CliError {
        CliError::failed(format!(
            "{command}: no job with id {id} (finished jobs are pruned after a while; \
             `queuectl list` shows what there is)"
        ))
    }

    /// The same error, its message led by `context` (`"list: …"`).
    pub fn context(mut self, context: &str) -> CliError {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<QueueError> for CliError {
    fn from(e: QueueError) -> CliError {
        let text = ErrorChain(&e).to_string();
        match &e {
            QueueError::InvalidConfig(_) => CliError::usage(text),
            QueueError::InvalidRequest(why) if why.ends_with("not yet") => CliError::failed(
                format!("{text}: this backend does not offer it yet; upgrade the queue crates"),
            ),
            QueueError::Backend(_) if !mentions_a_next_step(&text) => CliError::failed(format!(
                "{text} (the server may be down or unreachable; check it and try again)"
            )),
            QueueError::Closed => CliError::failed(format!("{text} (nothing was changed)")),
            _ => CliError::failed(text),
        }
    }
}

/// Whether a driver's message already says what to check (the backends' connect errors
/// do), so that no second hint is added.
fn mentions_a_next_step(text: &str) -> bool {
    text.contains('?') || text.contains("unreachable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_errors_map_to_exit_codes_with_hints() {
        let config: CliError = QueueError::InvalidConfig("table name".into()).into();
        assert_eq!(config.exit, Exit::Usage);
        let not_yet: CliError = QueueError::InvalidRequest("purge: not yet".into()).into();
        assert_eq!(not_yet.exit, Exit::Failed);
        assert!(
            not_yet.message.contains("does not offer it yet"),
            "{not_yet}"
        );
        let down: CliError = QueueError::backend(std::io::Error::other("connection reset")).into();
        assert!(down.message.contains("check it and try again"), "{down}");
        let told: CliError =
            QueueError::backend(std::io::Error::other("refused (is it running?)")).into();
        assert!(!told.message.contains("check it and try again"), "{told}");
        let missing = CliError::no_job("get", JobId::from_bytes([0; 16]));
        assert!(
            missing.message.starts_with("get: no job with id 0000"),
            "{missing}"
        );
    }
}
