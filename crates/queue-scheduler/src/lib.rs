//! Recurring jobs for the queue workspace: interval and cron schedules that enqueue one
//! job per tick onto any [`queue_core::Queue`], exactly once per tick even when several
//! replicas run the same schedules against one durable queue.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use queue_core::Queue;
//! use queue_scheduler::Scheduler;
//!
//! # async fn run(queue: Arc<dyn Queue>) -> Result<(), queue_scheduler::ScheduleError> {
//! let scheduler = Scheduler::for_queue(queue);
//! scheduler
//!     .every(Duration::from_secs(90))
//!     .job("cache.refresh", serde_json::json!({"region": "eu"}))
//!     .register()?;
//! scheduler
//!     .cron("30 2 * * *")
//!     .time_zone(chrono_tz::America::New_York)
//!     .job("report.nightly", ())
//!     .priority(5)
//!     .register()?;
//! let handle = scheduler.start()?;
//! // … registering more schedules while it runs is fine …
//! handle.stop().await;
//! # Ok(()) }
//! ```
//!
//! # How it fires
//!
//! The run loop sleeps on its [`Clock`] until the earliest next tick of all schedules
//! (there is no global polling tick) and wakes early when schedules are added or
//! removed. A due schedule advances tick by tick on its own grid, so there is no drift:
//! `every(90 s)` fires at 90, 180, 270 s… however late the loop wakes.
//!
//! - **Interval ticks are aligned to the Unix epoch**: tick *k* is `k × interval` after
//!   1970-01-01T00:00:00Z, and the first tick is the first one after registration. Every
//!   replica therefore computes the same ticks whenever it started. (Use cron for a
//!   particular time of day.) Intervals are whole milliseconds.
//! - **Cron ticks** are the instants a cron expression names in the schedule's zone (UTC
//!   by default): 5 fields, or 6 with seconds first, or `@yearly`/`@annually`,
//!   `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`.
//! - **Daylight saving** (the rules of Vixie cron): in the spring-forward gap a
//!   fixed-time expression (such as `30 2 * * *`) fires once, at the first instant after
//!   the gap (03:00 in America/New_York), so no day is lost; a wildcard expression (minute
//!   or hour starting with `*`, such as `@hourly`) skips the times that do not exist. In
//!   the fall-back overlap a fixed-time expression fires once, at the earlier instant; a
//!   wildcard one fires at each real instant (`@hourly` fires at 01:00 EDT and again at
//!   01:00 EST, an hour later).
//! - **Missed ticks** (the scheduler was stopped or stalled) collapse into one run of the
//!   newest missed tick, or the newest *n* with [`ScheduleBuilder::catch_up`], oldest
//!   first. The work is bounded by *n*, not by the length of the outage.
//!
//! # Exactly once across replicas
//!
//! Each fired job carries the unique key `sched:{schedule_id}:{tick_unix_ms}` and runs at
//! its tick (`run_at = tick`, so a late scheduler does not shift it). The key is held from
//! the tick until the last moment any replica may still try that tick (the `n`-th next
//! tick for `catch_up(n)`, the next tick otherwise) plus [`UNIQUE_GRACE`] for clock
//! differences. Replicas with the same schedules (same [`ScheduleId`]s: the default id is
//! derived from the definition, so identical registrations agree) enqueue each tick once.
//!
//! # Failures
//!
//! A failed enqueue is logged (`tracing`, WARN) and retried with exponential backoff
//! ([`RETRY_FIRST_BACKOFF`] doubling up to [`RETRY_MAX_BACKOFF`]) until the schedule's next
//! tick; a tick given up on is logged at ERROR, never dropped silently. Each fire runs in
//! its own task, outside any lock, so one schedule's failing queue never holds up another.
//!
//! # Queues
//!
//! A scheduler holds one or more queues. Each schedule enqueues onto one of them: the
//! first by default, another with [`ScheduleBuilder::on_queue`].
//!
//! # Testing
//!
//! [`Scheduler::with_clock`] with a [`ManualClock`] makes a scheduler fully
//! deterministic: it only sees time pass when the test advances the clock.
//!
//! # Dates and times: chrono here, `time` in `queue-core`
//!
//! `queue-core` and the backends use the `time` crate (`Job::created_at`,
//! `RunAt::At`…). This crate uses `chrono`, and its [`Clock`] speaks
//! `chrono::DateTime<Utc>`, because cron needs it: `croner` parses and walks cron
//! expressions on chrono types, and `chrono-tz` ([`Tz`]) carries the IANA zones with
//! their daylight-saving rules; `time` has neither. Rewriting either would be a cron and
//! time-zone library of our own. A tick is turned into the queue's `time` type once, when
//! its job is built (`run_at = tick`), by its Unix nanoseconds, so no instant changes.

// docs.rs (`--cfg docsrs`) badges the items behind cargo features.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod clock;
mod cron;
mod error;
mod runner;
mod schedule;
mod scheduler;

pub use builder::{ScheduleBuilder, MAX_CATCH_UP, MAX_ID_LEN};
pub use clock::{Clock, ManualClock, Sleep, SystemClock};
pub use error::ScheduleError;
pub use runner::{RETRY_FIRST_BACKOFF, RETRY_MAX_BACKOFF};
pub use schedule::{Cadence, ScheduleId, UNIQUE_GRACE};
pub use scheduler::{ScheduleInfo, Scheduler, SchedulerHandle};

/// Re-exported so callers can name zones without adding the dependency themselves.
pub use chrono_tz::Tz;
