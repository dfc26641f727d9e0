//! Cron expressions: parsing (through `croner`) and the next fire time in a named zone,
//! with explicit daylight-saving rules.
//!
//! `croner` is used as a *calendar* only: it finds the next wall-clock time (a naive
//! date-time) that matches the expression. Turning wall-clock times into instants in the
//! schedule's zone is done here, so the rules are ours and tested:
//!
//! - **Spring forward (gap)**: a wall time that does not exist that day (02:30 in
//!   America/New_York on the March transition day) fires **once, at the first instant
//!   after the gap** (03:00 EDT) for a *fixed-time* expression, so a daily job never loses
//!   a day. For a *wildcard* expression (its minute or hour field starts with `*`, such as
//!   `@hourly` or `*/15 * * * *`) the non-existent times are skipped: no real time was
//!   missed, and the next match comes soon anyway.
//! - **Fall back (overlap)**: a wall time that happens twice fires **once, at the earlier
//!   instant** for a fixed-time expression (a 01:30 daily job runs at 01:30 EDT, not again
//!   at 01:30 EST). A wildcard expression fires at **both** instants, because they are
//!   distinct real times: `@hourly` keeps firing every real hour through the repeated one.
//!
//! These are the rules of Vixie cron (which classifies a job as wildcard the same way).
//! Several wall times landing on the same instant (the gap's end) fire once.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

use crate::ScheduleError;

/// How many calendar matches one [`CronSpec::next_after`] call may examine. The search
/// normally stops at the first or second match; only an every-second expression inside a
/// fall-back overlap looks at up to an hour's worth (3,600).
const MAX_MATCHES_PER_SEARCH: usize = 20_000;

/// Years of calendar checked for a matching day before an expression is declared never
/// to fire. 28 years is the cycle after which weekdays and leap days line up again, so a
/// rare but real date (the fifth Monday of a February) is still found.
const NEVER_FIRES_HORIZON_YEARS: i32 = 28;

/// A parsed cron expression.
#[derive(Clone, Debug)]
pub(crate) struct CronSpec {
    /// The expression as used: shortcuts expanded, whitespace collapsed.
    text: String,
    cron: Cron,
    /// Vixie's "wildcard job": the minute or hour field starts with `*` (or `?`).
    wildcard: bool,
}

impl CronSpec {
    /// Parses a 5-field (`min hour dom month dow`) or 6-field (seconds first) expression,
    /// or one of `@yearly @annually @monthly @weekly @daily @midnight @hourly`.
    pub(crate) fn parse(spec: &str) -> Result<CronSpec, ScheduleError> {
        let invalid = |reason: String| ScheduleError::InvalidCron {
            spec: spec.to_string(),
            reason,
        };
        let trimmed = spec.trim();
        let expanded = if trimmed.starts_with('@') {
            match trimmed.to_ascii_lowercase().as_str() {
                "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
                "@monthly" => "0 0 1 * *".to_string(),
                "@weekly" => "0 0 * * 0".to_string(),
                "@daily" | "@midnight" => "0 0 * * *".to_string(),
                "@hourly" => "0 * * * *".to_string(),
                other => return Err(invalid(format!("unknown shortcut {other}"))),
            }
        } else {
            trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let fields: Vec<&str> = expanded.split(' ').collect();
        let (minute, hour) = match fields.len() {
            5 => (fields[0], fields[1]),
            6 => (fields[1], fields[2]),
            0 | 1 if expanded.is_empty() => return Err(invalid("empty expression".into())),
            n => {
                return Err(invalid(format!(
                    "expected 5 fields (min hour day month weekday) or 6 (seconds first), got {n}"
                )))
            }
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(&expanded)
            .map_err(|e| invalid(e.to_string()))?;
        let starts_wild = |f: &str| f.starts_with('*') || f.starts_with('?');
        Ok(CronSpec {
            wildcard: starts_wild(minute) || starts_wild(hour),
            text: expanded,
            cron,
        })
    }

    /// The expression as used (shortcuts expanded).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether some day within the next 28 years from `from` matches the date fields.
    ///
    /// This is the cheap, bounded check behind [`ScheduleError::NeverFires`]: `croner`'s
    /// own search for `0 0 30 2 *` walks thousands of years before giving up.
    pub(crate) fn has_matching_day(&self, from: NaiveDate) -> bool {
        let Some(end) = from.with_year(from.year() + NEVER_FIRES_HORIZON_YEARS) else {
            return true;
        };
        let pattern = &self.cron.pattern;
        from.iter_days().take_while(|d| *d < end).any(|d| {
            pattern.month_match(d.month()).unwrap_or(false)
                && pattern
                    .day_match(d.year(), d.month(), d.day())
                    .unwrap_or(false)
        })
    }

    /// The first fire instant strictly after `t`, evaluated in `tz` with the
    /// daylight-saving rules of the module documentation. `None` when there is none the
    /// search can find (an expression that passed registration always has one).
    pub(crate) fn next_after(&self, t: DateTime<Utc>, tz: &Tz) -> Option<DateTime<Utc>> {
        // Cron has whole-second resolution; anything below is irrelevant to matching.
        let base = t.with_nanosecond_floor();
        let local = base.with_timezone(tz);
        let wall = local.naive_local();

        // Matches are examined in wall-clock order. Normally the search starts at `t`'s
        // own wall time. But when `t` is the *earlier* pass of a fall-back overlap, a
        // wildcard expression's wall times shortly before `t`'s also happen again, later,
        // and those later instants are after `t`: start one overlap-length earlier.
        let mut cursor = wall;
        if self.wildcard {
            if let LocalResult::Ambiguous(earlier, later) = tz.from_local_datetime(&wall) {
                if earlier.with_timezone(&Utc) == base {
                    cursor = wall - (later.with_timezone(&Utc) - earlier.with_timezone(&Utc));
                }
            }
        }

        let mut best: Option<DateTime<Utc>> = None;
        let consider = |best: &mut Option<DateTime<Utc>>, c: DateTime<Utc>| {
            if c > t && best.is_none_or(|b| c < b) {
                *best = Some(c);
            }
        };
        for _ in 0..MAX_MATCHES_PER_SEARCH {
            let w = self.next_wall_after(cursor)?;
            cursor = w;
            // The earliest instant of successive wall times never decreases, so once the
            // best candidate is no later than this wall time's earliest instant, no later
            // wall time can beat it.
            let earliest = match tz.from_local_datetime(&w) {
                LocalResult::Single(i) => {
                    let i = i.with_timezone(&Utc);
                    consider(&mut best, i);
                    i
                }
                LocalResult::Ambiguous(earlier, later) => {
                    let earlier = earlier.with_timezone(&Utc);
                    consider(&mut best, earlier);
                    if self.wildcard {
                        consider(&mut best, later.with_timezone(&Utc));
                    }
                    earlier
                }
                LocalResult::None => {
                    if self.wildcard {
                        continue;
                    }
                    let after_gap = first_instant_after_gap(w, tz)?;
                    consider(&mut best, after_gap);
                    after_gap
                }
            };
            if best.is_some_and(|b| b <= earliest) {
                return best;
            }
        }
        best
    }

    /// The next wall-clock time strictly after `w` that the expression matches, ignoring
    /// zones (the calendar is evaluated as if the wall clock were UTC, which has no gaps).
    fn next_wall_after(&self, w: NaiveDateTime) -> Option<NaiveDateTime> {
        self.cron
            .find_next_occurrence(&Utc.from_utc_datetime(&w), false)
            .ok()
            .map(|d| d.naive_utc())
    }
}

/// The first real instant after the spring-forward gap that swallowed wall time `w`.
fn first_instant_after_gap(w: NaiveDateTime, tz: &Tz) -> Option<DateTime<Utc>> {
    let valid = |n: &NaiveDateTime| !matches!(tz.from_local_datetime(n), LocalResult::None);
    // Gaps are at most a day long (Samoa skipped 30 Dec 2011); find a valid wall time
    // after `w` by doubling, then the first valid second by bisection.
    let mut step = chrono::Duration::seconds(1);
    let mut hi = w + step;
    while !valid(&hi) {
        if step > chrono::Duration::hours(48) {
            return None;
        }
        step = step * 2;
        hi = w + step;
    }
    let mut lo = w; // invalid
    while (hi - lo) > chrono::Duration::seconds(1) {
        let mid = lo + (hi - lo) / 2;
        if valid(&mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    tz.from_local_datetime(&hi)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// Truncation to whole seconds.
trait FloorSecond {
    fn with_nanosecond_floor(self) -> Self;
}

impl FloorSecond for DateTime<Utc> {
    fn with_nanosecond_floor(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

#[cfg(test)]
mod tests;
