//! What a schedule is: its id, its cadence and tick arithmetic, and the job it enqueues.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use queue_core::NewJob;

use crate::cron::CronSpec;

/// The stable id of a schedule.
///
/// It names the schedule in logs and in [`crate::ScheduleInfo`], and it is part of every
/// fired job's unique key (`sched:{id}:{tick_unix_ms}`), so replicas that register the
/// same schedule must end up with the same id. The default id is derived from the job
/// kind, the cadence (and zone), the payload and the target queue, so identical
/// registrations agree without naming them; set one with
/// [`crate::ScheduleBuilder::id`] to keep it stable while the definition changes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScheduleId(String);

impl ScheduleId {
    pub(crate) fn new(id: String) -> Self {
        ScheduleId(id)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScheduleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ScheduleId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// When a schedule fires.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cadence {
    /// Every `interval`, on a grid aligned to the Unix epoch: the ticks are the instants
    /// `k × interval` after 1970-01-01T00:00:00Z. Every replica computes the same ticks,
    /// whenever it started.
    Every(Duration),
    /// At the instants a cron expression names, in a time zone.
    Cron {
        /// The expression as used (shortcuts such as `@daily` expanded).
        spec: String,
        /// The zone its wall-clock fields are read in.
        time_zone: Tz,
    },
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cadence::Every(d) => write!(f, "every {d:?}"),
            Cadence::Cron { spec, time_zone } => write!(f, "cron {spec:?} in {time_zone}"),
        }
    }
}

/// The tick arithmetic of a cadence.
#[derive(Clone, Debug)]
pub(crate) enum Timing {
    /// An epoch-aligned grid with this step, in milliseconds (always > 0).
    Every { step_ms: i64 },
    /// A cron expression in a zone.
    Cron { spec: Box<CronSpec>, tz: Tz },
}

/// The first look-back window when searching for the newest missed cron ticks; it doubles
/// until it holds enough ticks or reaches the oldest unfired one.
const FIRST_LOOKBACK: chrono::Duration = chrono::Duration::minutes(1);

impl Timing {
    /// The first tick strictly after `t`.
    pub(crate) fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Timing::Every { step_ms } => {
                let k = t.timestamp_millis().div_euclid(*step_ms).checked_add(1)?;
                from_ms(k.checked_mul(*step_ms)?)
            }
            Timing::Cron { spec, tz } => spec.next_after(t, tz),
        }
    }

    /// The first tick at or after `t`.
    fn at_or_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_after(t.checked_sub_signed(chrono::Duration::nanoseconds(1))?)
    }

    /// The newest `keep` ticks in `[first, now]`, oldest first, where `first` is the
    /// oldest tick not fired yet. Empty when `first > now`.
    ///
    /// The work is bounded by `keep`, not by how long the scheduler was away: an
    /// every-second cron expression after a month-long outage does not walk millions of
    /// ticks.
    pub(crate) fn due_ticks(
        &self,
        first: DateTime<Utc>,
        now: DateTime<Utc>,
        keep: usize,
    ) -> Vec<DateTime<Utc>> {
        if first > now || keep == 0 {
            return Vec::new();
        }
        match self {
            Timing::Every { step_ms } => {
                let step = *step_ms;
                let first_ms = first.timestamp_millis();
                let last_ms = now.timestamp_millis().div_euclid(step) * step;
                let count = (last_ms - first_ms).div_euclid(step) + 1;
                let n = count.clamp(0, keep as i64);
                (0..n)
                    .rev()
                    .filter_map(|back| from_ms(last_ms - back * step))
                    .collect()
            }
            Timing::Cron { .. } => {
                let mut lookback = FIRST_LOOKBACK;
                loop {
                    let start = now
                        .checked_sub_signed(lookback)
                        .map_or(first, |s| s.max(first));
                    let mut newest = VecDeque::with_capacity(keep + 1);
                    let mut tick = self.at_or_after(start);
                    while let Some(t) = tick.filter(|t| *t <= now) {
                        newest.push_back(t);
                        if newest.len() > keep {
                            newest.pop_front();
                        }
                        tick = self.next_after(t);
                    }
                    if newest.len() >= keep || start == first {
                        return newest.into();
                    }
                    lookback = lookback.checked_mul(2).unwrap_or(chrono::Duration::MAX);
                }
            }
        }
    }

    /// `ticks` (consecutive, oldest first) followed by the `extra` ticks after the last.
    pub(crate) fn extend(&self, ticks: &[DateTime<Utc>], extra: usize) -> Vec<DateTime<Utc>> {
        let mut all = ticks.to_vec();
        let mut last = ticks.last().copied();
        for _ in 0..extra {
            last = last.and_then(|t| self.next_after(t));
            match last {
                Some(t) => all.push(t),
                None => break,
            }
        }
        all
    }
}

fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// A registered schedule's fixed definition.
#[derive(Debug)]
pub(crate) struct Definition {
    pub(crate) id: ScheduleId,
    pub(crate) kind: String,
    pub(crate) payload: serde_json::Value,
    pub(crate) priority: i32,
    pub(crate) max_attempts: u32,
    pub(crate) cadence: Cadence,
    pub(crate) timing: Timing,
    /// Ticks enqueued when several are due at once (at least 1).
    pub(crate) keep: usize,
    /// Index of the target queue.
    pub(crate) queue: usize,
}

/// Extra unique-key hold beyond the last moment any replica may still try a tick; it
/// absorbs clock differences between replicas and the backend of up to half of it.
pub const UNIQUE_GRACE: Duration = Duration::from_secs(5 * 60);

impl Definition {
    /// The unique key of the job fired for `tick`.
    pub(crate) fn unique_key(&self, tick: DateTime<Utc>) -> String {
        unique_key(&self.id, tick)
    }

    /// The job fired for `tick`, holding its unique key for `window`.
    pub(crate) fn job(&self, tick: DateTime<Utc>, window: Duration) -> NewJob {
        let mut job = NewJob::new(self.kind.clone(), self.payload.clone())
            .priority(self.priority)
            .max_attempts(self.max_attempts)
            .unique_for(self.unique_key(tick), window);
        if let Some(at) = to_offset(tick) {
            job = job.run_at(at);
        }
        job
    }
}

/// `sched:{id}:{tick_unix_ms}`.
pub(crate) fn unique_key(id: &ScheduleId, tick: DateTime<Utc>) -> String {
    format!("sched:{id}:{}", tick.timestamp_millis())
}

/// chrono → time, as `queue-core` speaks `time`.
pub(crate) fn to_offset(t: DateTime<Utc>) -> Option<time::OffsetDateTime> {
    let nanos = i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos());
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// The default schedule id: `{kind}@{hash}`, the hash (64-bit FNV-1a, fixed forever so
/// that replicas built by different compilers agree) over what defines the schedule.
pub(crate) fn default_id(
    kind: &str,
    cadence: &Cadence,
    payload: &serde_json::Value,
    queue: usize,
) -> ScheduleId {
    let cadence = match cadence {
        Cadence::Every(d) => format!("every:{}ms", d.as_millis()),
        Cadence::Cron { spec, time_zone } => format!("cron:{spec}:{}", time_zone.name()),
    };
    let mut json = String::new();
    canonical_json(payload, &mut json);
    let mut h = Fnv1a::default();
    for part in ["v1", kind, &cadence, &json, &queue.to_string()] {
        h.write(part.as_bytes());
        h.write(&[0]);
    }
    ScheduleId(format!("{kind}@{:016x}", h.0))
}

/// JSON text with object keys sorted, whatever serde_json's `preserve_order` feature
/// says, so the default id does not depend on how a replica was built.
fn canonical_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical_json(value, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// 64-bit FNV-1a: a tiny, fully specified hash, unlike `std`'s `DefaultHasher` whose
/// output may change between Rust releases.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests;
