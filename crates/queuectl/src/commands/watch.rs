//! `watch`: the counts every interval, with rates per second from the change since the
//! last sample and how long the oldest due job has waited. Redraws in place on a
//! terminal; one line per sample in a pipe (JSON lines with `--json`). Ends on Ctrl-C
//! (or after `--count` samples).

use std::time::{Duration, Instant};

use queue_core::{JobState, Stats};
use serde::Serialize;
use time::OffsetDateTime;

use super::Ctx;
use crate::cli::after_help;
use crate::duration;
use crate::error::CliError;
use crate::output::{self, Table};

/// Options of `watch`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl watch\n  queuectl watch --interval 10s\n  queuectl watch --count 1 --json    # one sample\n  queuectl watch --json | tee queue.log    # one JSON object per sample:\n    {\"at\":\"…\",\"pending\":120,…,\"paused\":[],\"rates\":{\"pending\":-3.5,…},\"oldest_due\":\"…\",\"lag_secs\":2.1}"
))]
pub struct Args {
    /// Time between samples (500ms, 2s, 1m).
    #[arg(long, default_value = "2s", value_parser = duration::parse)]
    interval: Duration,
    /// Stop after this many samples instead of at Ctrl-C (`--count 1 --json`: one
    /// sample, with the oldest due job's wait).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
}

/// One sample.
struct Sample {
    /// When it was taken, for the rates.
    taken: Instant,
    /// And by the wall clock, for people.
    at: OffsetDateTime,
    /// The counts.
    stats: Stats,
    /// When the longest-waiting due job fell due.
    oldest_due: Option<OffsetDateTime>,
}

/// Per-second change of each count since the previous sample.
#[derive(Serialize, Clone, Copy, Default)]
struct Rates {
    pending: f64,
    running: f64,
    completed: f64,
    failed: f64,
    cancelled: f64,
}

impl Rates {
    /// The rates from `before` to `after`.
    fn between(before: &Sample, after: &Sample) -> Rates {
        let secs = after.taken.duration_since(before.taken).as_secs_f64();
        let rate = |s: JobState| {
            let delta = after.stats.get(s) as f64 - before.stats.get(s) as f64;
            if secs > 0.0 {
                delta / secs
            } else {
                0.0
            }
        };
        Rates {
            pending: rate(JobState::Pending),
            running: rate(JobState::Running),
            completed: rate(JobState::Completed),
            failed: rate(JobState::Failed),
            cancelled: rate(JobState::Cancelled),
        }
    }

    /// The rate of one state.
    fn get(&self, state: JobState) -> f64 {
        match state {
            JobState::Pending => self.pending,
            JobState::Running => self.running,
            JobState::Completed => self.completed,
            JobState::Failed => self.failed,
            JobState::Cancelled => self.cancelled,
        }
    }
}

/// A sample as one JSON line.
#[derive(Serialize)]
struct Line<'a> {
    /// When it was taken (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// The counts and paused kinds, as `stats --json` gives them.
    #[serde(flatten)]
    stats: &'a Stats,
    /// Change per second since the previous sample; `null` on the first.
    rates: Option<Rates>,
    /// When the longest-waiting due job fell due; `null` when none is due.
    #[serde(with = "time::serde::rfc3339::option")]
    oldest_due: Option<OffsetDateTime>,
    /// How long it has waited, in seconds; `null` when none is due.
    lag_secs: Option<f64>,
}

/// Samples until Ctrl-C, or `--count` samples.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    if args.interval.is_zero() {
        return Err(CliError::usage(
            "watch: --interval must be longer than zero",
        ));
    }
    let mode = if ctx.json {
        Mode::Json
    } else if output::stdout_is_terminal() {
        Mode::Screen { lines: 0 }
    } else {
        Mode::Lines
    };
    let mut mode = mode;
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let mut ticks = tokio::time::interval(args.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut previous: Option<Sample> = None;
    let mut shown = 0;
    while args.count.is_none_or(|count| shown < count) {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = ticks.tick() => {}
        }
        let sample = tokio::select! {
            _ = &mut stop => return Ok(()),
            sample = take(ctx) => sample?,
        };
        let rates = previous.as_ref().map(|p| Rates::between(p, &sample));
        mode.show(ctx, &args, &sample, rates)?;
        previous = Some(sample);
        shown += 1;
    }
    Ok(())
}

/// Reads the counts and the oldest due job.
async fn take(ctx: &Ctx) -> Result<Sample, CliError> {
    let stats = ctx
        .queue
        .stats()
        .await
        .map_err(|e| CliError::from(e).context("watch"))?;
    let oldest_due = ctx
        .queue
        .oldest_due()
        .await
        .map_err(|e| CliError::from(e).context("watch"))?;
    Ok(Sample {
        taken: Instant::now(),
        at: OffsetDateTime::now_utc(),
        stats,
        oldest_due,
    })
}

/// How samples are shown.
enum Mode {
    /// Redrawn in place on a terminal; `lines` is the height of the last drawing.
    Screen { lines: usize },
    /// One line of text per sample.
    Lines,
    /// One JSON object per sample.
    Json,
}

impl Mode {
    /// Shows one sample.
    fn show(
        &mut self,
        ctx: &Ctx,
        args: &Args,
        sample: &Sample,
        rates: Option<Rates>,
    ) -> Result<(), CliError> {
        let lag = lag(sample);
        match self {
            Mode::Json => output::json(&Line {
                at: sample.at,
                stats: &sample.stats,
                rates,
                oldest_due: sample.oldest_due,
                lag_secs: lag.map(|d| d.as_secs_f64()),
            }),
            Mode::Lines => output::line(&plain(sample, rates, lag)),
            Mode::Screen { lines } => {
                let screen = screen(ctx, args, sample, rates, lag);
                // Up to the top of the last drawing, then each line cleared and rewritten.
                let mut text = if *lines > 0 {
                    format!("\x1b[{lines}A")
                } else {
                    String::new()
                };
                for line in screen.lines() {
                    text.push_str("\x1b[2K");
                    text.push_str(line);
                    text.push('\n');
                }
                *lines = screen.lines().count();
                output::write_out(text.as_bytes())
            }
        }
    }
}

/// How long the oldest due job has waited (never negative across clock skew).
fn lag(sample: &Sample) -> Option<Duration> {
    sample
        .oldest_due
        .map(|due| Duration::try_from(sample.at - due).unwrap_or(Duration::ZERO))
}

/// A rate for people: `+3.5/s`, `-0.2/s`, `0/s`.
fn rate(r: f64) -> String {
    if r.abs() < 0.05 {
        "0/s".into()
    } else {
        format!("{r:+.1}/s")
    }
}

/// One line: `2026-11-29 10:00:02Z pending=120 (+3.5/s) … lag=2s paused=email`.
fn plain(sample: &Sample, rates: Option<Rates>, lag: Option<Duration>) -> String {
    let mut text = output::time(sample.at);
    for state in JobState::ALL {
        text.push_str(&format!(" {state}={}", sample.stats.get(state)));
        if let Some(r) = rates {
            text.push_str(&format!(" ({})", rate(r.get(state))));
        }
    }
    text.push_str(&format!(
        " lag={}",
        lag.map_or("-".into(), duration::format)
    ));
    if !sample.stats.paused.is_empty() {
        text.push_str(&format!(" paused={}", sample.stats.paused.join(",")));
    }
    text
}

/// The block redrawn on a terminal.
fn screen(
    ctx: &Ctx,
    args: &Args,
    sample: &Sample,
    rates: Option<Rates>,
    lag: Option<Duration>,
) -> String {
    let mut table = Table::new(&["STATE", "JOBS", "RATE"]).align_right(&[1, 2]);
    for state in JobState::ALL {
        let r = rates.map_or("-".into(), |r| rate(r.get(state)));
        table.row(vec![
            state.to_string(),
            sample.stats.get(state).to_string(),
            r,
        ]);
    }
    let waited = match lag {
        Some(d) => format!("the oldest due job has waited {}", duration::format(d)),
        None => "no job is waiting".into(),
    };
    let paused = if sample.stats.paused.is_empty() {
        "none".to_owned()
    } else {
        sample.stats.paused.join(", ")
    };
    format!(
        "{}  every {}, Ctrl-C to stop\n{}{waited}\npaused kinds: {paused}\nat {}\n",
        ctx.location.label(),
        duration::format(args.interval),
        table.render(),
        output::time(sample.at),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample(taken: Instant, pending: u64, completed: u64) -> Sample {
        Sample {
            taken,
            at: datetime!(2026-11-29 10:00:00 UTC),
            stats: Stats {
                pending,
                completed,
                paused: vec!["email".into()],
                ..Stats::default()
            },
            oldest_due: Some(datetime!(2026-11-29 09:59:58 UTC)),
        }
    }

    #[test]
    fn rates_come_from_the_change_per_second() {
        let t0 = Instant::now();
        let before = sample(t0, 100, 10);
        let after = sample(t0 + Duration::from_secs(2), 90, 30);
        let r = Rates::between(&before, &after);
        assert_eq!((r.pending, r.completed, r.failed), (-5.0, 10.0, 0.0));
        assert_eq!(Rates::between(&before, &before).pending, 0.0);
    }

    #[test]
    fn a_plain_line_has_counts_rates_lag_and_pauses() {
        let t0 = Instant::now();
        let s = sample(t0, 100, 10);
        let line = plain(
            &s,
            Some(Rates {
                pending: -5.0,
                ..Rates::default()
            }),
            lag(&s),
        );
        assert_eq!(
            line,
            "2026-11-29 10:00:00Z pending=100 (-5.0/s) running=0 (0/s) completed=10 (0/s) \
             failed=0 (0/s) cancelled=0 (0/s) lag=2s paused=email"
        );
        assert!(plain(&s, None, None).contains("pending=100 running=0"));
    }
}
