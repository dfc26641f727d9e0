//! The names of every key of one queue. All share the `{name}` hash tag, so they live in
//! one Redis Cluster slot and one Lua script may touch them all.

use queue_core::{JobId, JobState, QueueError, Result};

/// Longest accepted queue name, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// Checks a queue name: 1 to 128 bytes, no `{` or `}` (they would break the hash tag),
/// no whitespace or control characters.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(QueueError::InvalidConfig(format!(
            "queue name must be 1..={MAX_NAME_LEN} bytes, got {}",
            name.len()
        )));
    }
    if name
        .chars()
        .any(|c| c == '{' || c == '}' || c.is_whitespace() || c.is_control())
    {
        return Err(QueueError::InvalidConfig(format!(
            "queue name {name:?} may not contain braces, spaces or control characters"
        )));
    }
    Ok(())
}

/// How many keys every script receives first (see `scripts/lib.lua`).
pub(crate) const COMMON: usize = 16;

/// Key names of one queue (see the crate documentation for the schema).
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    /// `{name}`: the hash tag every key starts with.
    tag: String,
    /// The [`COMMON`] keys every script receives first, in the order `scripts/lib.lua` reads.
    common: Vec<String>,
}

impl Keys {
    /// The keys of the queue `name` (already validated).
    pub(crate) fn new(name: &str) -> Self {
        let tag = format!("{{{name}}}");
        let k = |suffix: &str| format!("{tag}:{suffix}");
        let common = vec![
            k("job:"),
            k("ready:"),
            k("unique:"),
            k("delayed"),
            k("running"),
            k("state:pending"),
            // Running jobs are indexed by the lease set alone (see scripts/lib.lua).
            k("running"),
            k("state:completed"),
            k("state:failed"),
            k("state:cancelled"),
            k("kinds"),
            k("wake"),
            k("paused"),
            k("finished:completed"),
            k("finished:failed"),
            k("finished:cancelled"),
        ];
        Keys { tag, common }
    }

    /// The [`COMMON`] keys every script takes first.
    pub(crate) fn common(&self) -> Vec<String> {
        self.common.clone()
    }

    /// The common keys followed by the ready sets of `kinds` (each once).
    pub(crate) fn with_ready(&self, kinds: &[&str]) -> Vec<String> {
        let mut keys = self.common();
        for kind in kinds {
            let key = self.ready(kind);
            if !keys[COMMON..].contains(&key) {
                keys.push(key);
            }
        }
        keys
    }

    /// The hash of one job.
    pub(crate) fn job(&self, id: JobId) -> String {
        format!("{}{id}", self.common[0])
    }

    /// The ready set of one kind.
    pub(crate) fn ready(&self, kind: &str) -> String {
        format!("{}{kind}", self.common[1])
    }

    /// The index of one state.
    pub(crate) fn state(&self, state: JobState) -> &str {
        match state {
            JobState::Pending => &self.common[5],
            JobState::Running => &self.common[6],
            JobState::Completed => &self.common[7],
            JobState::Failed => &self.common[8],
            JobState::Cancelled => &self.common[9],
        }
    }

    /// The stop flag of one pipelined `enqueue_batch` call (see `scripts/enqueue.lua`).
    pub(crate) fn enqueue_stop(&self, call: u64) -> String {
        format!("{}:enqueue-stop:{call:016x}", self.tag)
    }

    /// The index of the jobs that finished in the final `state`, by when they finished.
    #[cfg(test)]
    pub(crate) fn finished(&self, state: JobState) -> Option<&str> {
        match state {
            JobState::Completed => Some(&self.common[13]),
            JobState::Failed => Some(&self.common[14]),
            JobState::Cancelled => Some(&self.common[15]),
            JobState::Pending | JobState::Running => None,
        }
    }

    /// The wake-up channel.
    pub(crate) fn wake(&self) -> &str {
        &self.common[11]
    }

    /// The set of paused kinds.
    pub(crate) fn paused(&self) -> &str {
        &self.common[12]
    }

    /// The hash of limits by kind (see `scripts/lib.lua`, which derives the same name).
    pub(crate) fn limits(&self) -> String {
        format!("{}:limits", self.tag)
    }

    /// `{name}`, the hash tag.
    pub(crate) fn tag(&self) -> &str {
        &self.tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("jobs").is_ok());
        assert!(validate_name("billing:eu-1").is_ok());
        for bad in ["", "a{b", "a}b", "a b", "a\nb"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_name(&"n".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn every_key_carries_the_tag() {
        let k = Keys::new("q");
        for key in k.with_ready(&["a", "b", "a"]) {
            assert!(key.starts_with("{q}:"), "{key}");
        }
        assert_eq!(k.common().len(), COMMON);
        assert_eq!(k.with_ready(&["a", "b", "a"]).len(), COMMON + 2);
        assert_eq!(
            k.job(JobId::from_bytes([0; 16])),
            "{q}:job:00000000000000000000000000"
        );
    }
}
