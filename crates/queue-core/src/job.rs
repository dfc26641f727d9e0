//! Jobs: what is enqueued ([`NewJob`]) and what is stored and claimed ([`Job`]).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{ClaimToken, JobId, JobState, QueueError, Result};

/// Longest accepted job kind, in bytes.
pub const MAX_KIND_LEN: usize = 255;
/// Longest accepted unique key, in bytes.
pub const MAX_UNIQUE_KEY_LEN: usize = 512;
/// Largest accepted payload, in bytes of its JSON form.
pub const MAX_PAYLOAD_BYTES: usize = 8 * 1024 * 1024;
/// Attempts given to a job that asks for none.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// A job as stored and as handed out by a claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Its id; ULIDs sort by creation.
    pub id: JobId,
    /// What kind of work it is; workers pick a handler by it.
    pub kind: String,
    /// The arguments, as JSON.
    pub payload: serde_json::Value,
    /// Higher runs first.
    pub priority: i32,
    /// How many times it was claimed (the first delivery has 1).
    pub attempts: u32,
    /// Claims allowed before it is dead-lettered.
    pub max_attempts: u32,
    /// When it was enqueued.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it becomes (or became) eligible to run.
    #[serde(with = "time::serde::rfc3339")]
    pub scheduled_at: OffsetDateTime,
    /// Where it is in its life.
    pub state: JobState,
    /// Its unique key, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_key: Option<String>,
    /// Its concurrency key, if it has one (see [`NewJob::concurrency_key`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_key: Option<String>,
    /// The error of its last failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The current claim, while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// What its handler returned, stored when it completed (see
    /// [`Queue::complete_batch`](crate::Queue::complete_batch)); `None` for every other
    /// job, and once completed jobs are no longer retained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    /// Whether someone asked, while it ran, for it to be cancelled (see
    /// [`Queue::cancel`](crate::Queue::cancel)). Such a job ends `cancelled` unless its
    /// handler succeeds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancel_requested: bool,
    /// When it reached its final state (`completed`, `failed` or `cancelled`); `None`
    /// while it is pending or running.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_at: Option<OffsetDateTime>,
}

impl Job {
    /// Starts a new job of `kind` with a JSON payload; finish it with the builder methods
    /// of [`NewJob`] and pass it to `Queue::enqueue`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use queue_core::Job;
    /// let job = Job::new("email", serde_json::json!({"to": "a@example.com"}))
    ///     .priority(5)
    ///     .delay(Duration::from_secs(10))
    ///     .max_attempts(10);
    /// assert_eq!(job.kind, "email");
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> NewJob {
        NewJob::new(kind, payload)
    }

    /// Decodes the payload into `T`.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.payload).map_err(|source| QueueError::Payload {
            id: Some(self.id),
            source,
        })
    }

    /// The lease this claim holds.
    ///
    /// Fails with [`QueueError::NotClaimed`] for a job that was not handed out by a claim.
    pub fn lease(&self) -> Result<Lease> {
        self.lease.ok_or(QueueError::NotClaimed(self.id))
    }
}

/// Proof of a claim: the job id, its claim token, and when the lease runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The claimed job.
    pub id: JobId,
    /// The token of this claim.
    pub token: ClaimToken,
    /// When the lease ends unless extended, by the backend's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// When a new job becomes eligible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RunAt {
    /// As soon as possible (the backend's "now").
    #[default]
    Now,
    /// After this long, measured by the backend's clock at enqueue.
    After(Duration),
    /// At this instant.
    At(OffsetDateTime),
}

/// A unique key and how long it is held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unique {
    /// The key; another enqueue with it returns the existing job's id.
    pub key: String,
    /// How long the key is held from enqueue. `None` holds it until the job ends
    /// (completed, failed or cancelled).
    pub window: Option<Duration>,
}

/// A job to enqueue, built with [`Job::new`].
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    /// Set to choose the id; otherwise a fresh one is made.
    pub id: Option<JobId>,
    /// What kind of work it is.
    pub kind: String,
    /// The arguments.
    pub payload: serde_json::Value,
    /// Higher runs first (default 0).
    pub priority: i32,
    /// Claims allowed; 0 means the default of 3.
    pub max_attempts: u32,
    /// When it may first run.
    pub run_at: RunAt,
    /// Optional de-duplication.
    pub unique: Option<Unique>,
    /// Groups jobs of a kind for per-key limits (see [`NewJob::concurrency_key`]).
    pub concurrency_key: Option<String>,
}

impl NewJob {
    /// Same as [`Job::new`].
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        NewJob {
            id: None,
            kind: kind.into(),
            payload,
            priority: 0,
            max_attempts: 0,
            run_at: RunAt::Now,
            unique: None,
            concurrency_key: None,
        }
    }

    /// Higher runs first.
    pub fn priority(mut self, p: i32) -> Self {
        self.priority = p;
        self
    }

    /// Run no sooner than `d` from now (by the backend's clock).
    pub fn delay(mut self, d: Duration) -> Self {
        self.run_at = RunAt::After(d);
        self
    }

    /// Run no sooner than `at`.
    pub fn run_at(mut self, at: OffsetDateTime) -> Self {
        self.run_at = RunAt::At(at);
        self
    }

    /// Claims allowed before the job is dead-lettered.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Use this id instead of a fresh one.
    pub fn id(mut self, id: JobId) -> Self {
        self.id = Some(id);
        self
    }

    /// Do not enqueue another job with `key` for `window` after this one was enqueued.
    pub fn unique_for(mut self, key: impl Into<String>, window: Duration) -> Self {
        self.unique = Some(Unique {
            key: key.into(),
            window: Some(window),
        });
        self
    }

    /// Do not enqueue another job with `key` until this one has ended.
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique = Some(Unique {
            key: key.into(),
            window: None,
        });
        self
    }

    /// Puts the job in a group of its kind for per-key limits: with
    /// `Limit::per_key(1)` set on the kind ([`Queue::set_limit`]), at most one job per key
    /// runs at once, whichever worker claims it. Keys need not be declared; jobs of a key
    /// at its limit do not hold up other keys. 1 to 255 bytes, no NUL.
    ///
    /// ```
    /// use queue_core::Job;
    ///
    /// let job = Job::new("sync", serde_json::json!({"customer": 42})).concurrency_key("customer:42");
    /// assert_eq!(job.concurrency_key.as_deref(), Some("customer:42"));
    /// ```
    ///
    /// [`Queue::set_limit`]: crate::Queue::set_limit
    pub fn concurrency_key(mut self, key: impl Into<String>) -> Self {
        self.concurrency_key = Some(key.into());
        self
    }

    /// Checks the job and fills its defaults, as every backend does at enqueue.
    ///
    /// Returns the id to use, the effective `max_attempts`, and the payload's JSON size.
    pub fn prepare(&self) -> Result<Prepared> {
        validate_kind(&self.kind)?;
        validate_run_at(self.run_at)?;
        if let Some(key) = &self.concurrency_key {
            crate::limit::validate_concurrency_key(key)?;
        }
        if let Some(u) = &self.unique {
            if u.key.is_empty() || u.key.len() > MAX_UNIQUE_KEY_LEN {
                return Err(QueueError::InvalidJob(format!(
                    "unique key must be 1..={MAX_UNIQUE_KEY_LEN} bytes"
                )));
            }
            if u.key.contains('\0') {
                return Err(QueueError::InvalidJob(
                    "unique key contains a NUL character".into(),
                ));
            }
            match u.window {
                Some(Duration::ZERO) => {
                    return Err(QueueError::InvalidJob(
                        "unique window must be longer than zero".into(),
                    ))
                }
                Some(w) if w > MAX_DELAY => {
                    return Err(QueueError::InvalidJob(format!(
                        "unique window of {w:?} is longer than the limit of {MAX_DELAY:?}"
                    )))
                }
                _ => {}
            }
        }
        if has_nul(&self.payload) {
            // Postgres cannot store it; rejected everywhere so every backend agrees.
            return Err(QueueError::InvalidJob(
                "payload contains a NUL character (\\u0000)".into(),
            ));
        }
        let payload =
            serde_json::to_string(&self.payload).map_err(|source| QueueError::Payload {
                id: self.id,
                source,
            })?;
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(QueueError::InvalidJob(format!(
                "payload is {} bytes; the limit is {MAX_PAYLOAD_BYTES}",
                payload.len()
            )));
        }
        Ok(Prepared {
            id: self.id.unwrap_or_default(),
            max_attempts: if self.max_attempts == 0 {
                DEFAULT_MAX_ATTEMPTS
            } else {
                self.max_attempts
            },
            payload_json: payload,
        })
    }
}

/// The longest delay, snooze or unique window a job may have: about 1,000 years. Longer
/// ones would overflow some backend's time type; they are rejected the same way everywhere.
pub const MAX_DELAY: Duration = Duration::from_secs(1_000 * 366 * 24 * 3600);

/// Checks when a job may first run: a delay of at most [`MAX_DELAY`], or an instant within
/// the years 1 to 9999.
pub fn validate_run_at(run_at: RunAt) -> Result<()> {
    match run_at {
        RunAt::Now => Ok(()),
        RunAt::After(d) if d > MAX_DELAY => Err(QueueError::InvalidJob(format!(
            "delay of {d:?} is longer than the limit of {MAX_DELAY:?}"
        ))),
        RunAt::After(_) => Ok(()),
        RunAt::At(t) if !(1..=9999).contains(&t.year()) => Err(QueueError::InvalidJob(format!(
            "due time {t} is outside the years 1 to 9999"
        ))),
        RunAt::At(_) => Ok(()),
    }
}

/// Whether any string (or object key) in `v` holds a NUL character.
pub(crate) fn has_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A validated [`NewJob`]'s filled-in values.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The job's id.
    pub id: JobId,
    /// Attempts allowed (never 0).
    pub max_attempts: u32,
    /// The payload as JSON text.
    pub payload_json: String,
}

/// Checks a job kind: 1 to 255 bytes, no control characters, no surrounding whitespace.
pub fn validate_kind(kind: &str) -> Result<()> {
    if kind.is_empty() {
        return Err(QueueError::InvalidJob("job kind is empty".into()));
    }
    if kind.len() > MAX_KIND_LEN {
        return Err(QueueError::InvalidJob(format!(
            "job kind is {} bytes; the limit is {MAX_KIND_LEN}",
            kind.len()
        )));
    }
    if kind.chars().any(char::is_control) || kind.trim() != kind {
        return Err(QueueError::InvalidJob(format!(
            "job kind {kind:?} has control characters or surrounding spaces"
        )));
    }
    Ok(())
}
