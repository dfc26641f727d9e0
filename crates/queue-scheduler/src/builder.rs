//! The fluent builder that defines and validates one schedule.

use std::time::Duration;

use chrono_tz::Tz;
use queue_core::{validate_kind, JobArgs, NewJob};
use serde::Serialize;

use crate::cron::CronSpec;
use crate::schedule::{default_id, Cadence, Definition, ScheduleId, Timing};
use crate::{ScheduleError, Scheduler};

/// The most ticks [`ScheduleBuilder::catch_up`] may ask for.
pub const MAX_CATCH_UP: u32 = 100;

/// The longest explicit schedule id, in bytes (it is embedded in unique keys, which
/// queues cap at 512 bytes).
pub const MAX_ID_LEN: usize = 300;

/// The cadence as the user gave it, checked at registration.
#[derive(Debug)]
pub(crate) enum CadenceInput {
    Every(Duration),
    Cron(String),
}

/// Defines one schedule; made by [`Scheduler::every`] or [`Scheduler::cron`], finished
/// by [`ScheduleBuilder::register`].
#[derive(Debug)]
#[must_use = "a schedule does nothing until .register() is called"]
pub struct ScheduleBuilder {
    scheduler: Scheduler,
    cadence: CadenceInput,
    job: Option<(String, Result<serde_json::Value, serde_json::Error>)>,
    priority: i32,
    max_attempts: u32,
    id: Option<String>,
    time_zone: Option<Tz>,
    catch_up: u32,
    queue: usize,
}

impl ScheduleBuilder {
    pub(crate) fn new(scheduler: Scheduler, cadence: CadenceInput) -> Self {
        ScheduleBuilder {
            scheduler,
            cadence,
            job: None,
            priority: 0,
            max_attempts: 0,
            id: None,
            time_zone: None,
            catch_up: 0,
            queue: 0,
        }
    }

    /// The job to enqueue at each tick: its kind and any serde payload. A payload that
    /// fails to serialise is reported by [`ScheduleBuilder::register`].
    pub fn job(mut self, kind: impl Into<String>, payload: impl Serialize) -> Self {
        self.job = Some((kind.into(), serde_json::to_value(payload)));
        self
    }

    /// The job to enqueue at each tick, as typed arguments (kind [`JobArgs::KIND`]), with
    /// the priority and attempts their [`JobArgs::defaults`] set (`#[job(priority = …)]`);
    /// later calls of [`Self::priority`] and [`Self::max_attempts`] override them. Their
    /// unique key and delay do not apply: each tick has a unique key of its own.
    pub fn job_args<T: JobArgs>(mut self, args: &T) -> Self {
        let defaults = args.defaults(NewJob::new(T::KIND, serde_json::Value::Null));
        self.priority = defaults.priority;
        self.max_attempts = defaults.max_attempts;
        self.job(T::KIND, args)
    }

    /// Priority of the fired jobs (higher runs first; default 0).
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Attempts allowed to each fired job (0, the default, means the queue's default).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// A stable id for the schedule, instead of the one derived from its definition.
    /// Give one when the definition may change while replicas roll over, so old and new
    /// replicas still share the ticks' unique keys.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The zone a cron schedule's fields are read in (default UTC). Cron only.
    pub fn time_zone(mut self, tz: Tz) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// When several ticks were missed (the scheduler was stopped, the process paused,
    /// the queue unreachable for a while), enqueue the newest `n` of them, oldest first,
    /// instead of only the newest. 0 (the default) and 1 both mean "collapse missed ticks
    /// into one run". At most [`MAX_CATCH_UP`].
    pub fn catch_up(mut self, n: u32) -> Self {
        self.catch_up = n;
        self
    }

    /// Enqueue onto the scheduler's queue at `index` (default 0, the first).
    pub fn on_queue(mut self, index: usize) -> Self {
        self.queue = index;
        self
    }

    /// Validates the schedule and adds it to the scheduler (waking a running scheduler so
    /// it takes the new schedule into account). Returns its id.
    pub fn register(self) -> Result<ScheduleId, ScheduleError> {
        let (kind, payload) = self.job.ok_or(ScheduleError::MissingJob)?;
        validate_kind(&kind).map_err(ScheduleError::InvalidJob)?;
        let payload = payload.map_err(ScheduleError::Payload)?;
        let now = self.scheduler.inner.clock.now();

        let (timing, cadence, never_fires) = match self.cadence {
            CadenceInput::Every(interval) => {
                if self.time_zone.is_some() {
                    return Err(ScheduleError::TimeZoneOnInterval);
                }
                let step_ms = interval_ms(interval)?;
                let never_fires = ScheduleError::InvalidInterval {
                    interval,
                    reason: "no tick fits in the calendar's range",
                };
                (
                    Timing::Every { step_ms },
                    Cadence::Every(interval),
                    never_fires,
                )
            }
            CadenceInput::Cron(text) => {
                let spec = CronSpec::parse(&text)?;
                let tz = self.time_zone.unwrap_or(Tz::UTC);
                let never_fires = || ScheduleError::NeverFires { spec: text.clone() };
                if !spec.has_matching_day(now.with_timezone(&tz).date_naive()) {
                    return Err(never_fires());
                }
                let cadence = Cadence::Cron {
                    spec: spec.text().to_string(),
                    time_zone: tz,
                };
                (
                    Timing::Cron {
                        spec: Box::new(spec),
                        tz,
                    },
                    cadence,
                    never_fires(),
                )
            }
        };
        if self.catch_up > MAX_CATCH_UP {
            return Err(ScheduleError::CatchUpTooLarge {
                requested: self.catch_up,
                max: MAX_CATCH_UP,
            });
        }
        let queues = self.scheduler.inner.queues.len();
        if self.queue >= queues {
            return Err(ScheduleError::UnknownQueue {
                index: self.queue,
                queues,
            });
        }
        let id = match self.id {
            Some(id) => {
                let ok = !id.is_empty()
                    && id.len() <= MAX_ID_LEN
                    && !id.chars().any(|c| c.is_whitespace() || c.is_control());
                if !ok {
                    return Err(ScheduleError::InvalidId(id));
                }
                ScheduleId::new(id)
            }
            None => default_id(&kind, &cadence, &payload, self.queue),
        };
        let next_run = timing.next_after(now).ok_or(never_fires)?;

        let def = Definition {
            id,
            kind,
            payload,
            priority: self.priority,
            max_attempts: self.max_attempts,
            cadence,
            timing,
            keep: self.catch_up.max(1) as usize,
            queue: self.queue,
        };
        // Check the job exactly as the queue will see it (kind, payload size, unique key),
        // so a schedule that registers cannot fail validation at every tick.
        def.job(next_run, Duration::from_secs(1))
            .prepare()
            .map_err(ScheduleError::InvalidJob)?;
        self.scheduler.inner.insert(def, next_run)
    }
}

/// The interval as a positive whole number of milliseconds, the unit of the tick grid
/// and of the unique keys.
fn interval_ms(interval: Duration) -> Result<i64, ScheduleError> {
    if interval.is_zero() {
        return Err(ScheduleError::ZeroInterval);
    }
    if interval.subsec_nanos() % 1_000_000 != 0 {
        return Err(ScheduleError::InvalidInterval {
            interval,
            reason: "must be a whole number of milliseconds",
        });
    }
    i64::try_from(interval.as_millis()).map_err(|_| ScheduleError::InvalidInterval {
        interval,
        reason: "too long",
    })
}
