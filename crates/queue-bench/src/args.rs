//! The command line.

use std::time::Duration;

/// The backlogs `--sweep` measures.
pub const SWEEP: [usize; 3] = [10_000, 100_000, 1_000_000];

/// What to run, from the command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Backends to run; empty means all that are available.
    pub backends: Vec<String>,
    /// Jobs for the bulk enqueue, and for the drain when no backlog is given.
    pub jobs: usize,
    /// Backlogs to drain and to measure latency beside, ascending, without repeats; empty
    /// means one drain of `jobs` and latency on an empty queue.
    pub backlogs: Vec<usize>,
    /// Runs of each enqueue and drain measurement (queue and raw alternating); the median
    /// counts.
    pub repeat: usize,
    /// Worker concurrency for drain and latency.
    pub concurrency: usize,
    /// Offered rate for the latency measurement, jobs/s.
    pub rate: u32,
    /// How long the latency and idle measurements run.
    pub window: Duration,
    /// Where the JSON goes.
    pub json: String,
    /// Only the limited drain beside the unlimited one (`--limits-only`): one line per
    /// backend, no tables and no JSON. For working on limits.
    pub limits_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backends: Vec::new(),
            jobs: 100_000,
            backlogs: Vec::new(),
            repeat: 1,
            concurrency: 64,
            rate: 1_000,
            window: Duration::from_secs(5),
            json: "target/bench/results.json".into(),
            limits_only: false,
        }
    }
}

impl Options {
    /// The queue sizes the drain is measured at.
    pub fn drain_sizes(&self) -> Vec<usize> {
        if self.backlogs.is_empty() {
            vec![self.jobs]
        } else {
            self.backlogs.clone()
        }
    }

    /// The far-future backlogs the latency is measured beside.
    pub fn latency_backlogs(&self) -> Vec<usize> {
        if self.backlogs.is_empty() {
            vec![0]
        } else {
            self.backlogs.clone()
        }
    }
}

/// A job count: digits (underscores and commas allowed) with an optional `k` or `M`.
pub fn count(text: &str) -> Result<usize, String> {
    let t: String = text.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    let (digits, scale) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000),
        _ => (t.as_str(), 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?} is not a job count (like 10000, 10k or 1M)"))
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--backend" => o.backends.push(value()?.clone()),
            "--jobs" => o.jobs = count(value()?).map_err(|e| format!("--jobs: {e}"))?,
            "--backlog" => o
                .backlogs
                .push(count(value()?).map_err(|e| format!("--backlog: {e}"))?),
            "--sweep" => o.backlogs.extend(SWEEP),
            "--repeat" => o.repeat = value()?.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--concurrency" => {
                o.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--rate" => o.rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--json" => o.json = value()?.clone(),
            "--limits-only" => o.limits_only = true,
            "--quick" => {
                o.jobs = 20_000;
                o.window = Duration::from_secs(2);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.jobs == 0 || o.repeat == 0 || o.concurrency == 0 || o.rate == 0 || o.backlogs.contains(&0)
    {
        return Err(
            "--jobs, --backlog, --repeat, --concurrency and --rate must be positive".into(),
        );
    }
    o.backlogs.sort_unstable();
    o.backlogs.dedup();
    Ok(o)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_keep_one_drain_of_the_job_count() {
        let o = parse(&[]).unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(o.drain_sizes(), [100_000]);
        assert_eq!(o.latency_backlogs(), [0]);
        let q = parse(&args(&["--quick"])).unwrap();
        assert_eq!(q.drain_sizes(), [20_000]);
        assert_eq!(q.window, Duration::from_secs(2));
    }

    #[test]
    fn backlogs_repeat_sort_and_merge_with_the_sweep() {
        let o = parse(&args(&[
            "--backlog",
            "100000",
            "--backlog",
            "10k",
            "--sweep",
            "--backend",
            "redis",
            "--repeat",
            "3",
        ]))
        .unwrap();
        assert_eq!(o.repeat, 3);
        assert_eq!(o.backlogs, [10_000, 100_000, 1_000_000]);
        assert_eq!(o.drain_sizes(), o.backlogs);
        assert_eq!(o.latency_backlogs(), o.backlogs);
        assert_eq!(o.backends, ["redis"]);
        // The bulk enqueue keeps its own count.
        assert_eq!(o.jobs, 100_000);
    }

    #[test]
    fn counts_take_suffixes_and_separators() {
        assert_eq!(count("1M"), Ok(1_000_000));
        assert_eq!(count("250k"), Ok(250_000));
        assert_eq!(count("1_000_000"), Ok(1_000_000));
        assert_eq!(count("12,345"), Ok(12_345));
        assert!(count("ten").is_err());
        assert!(count("k").is_err());
        assert!(count("-5").is_err());
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse(&args(&["--backlog"])).is_err());
        assert!(parse(&args(&["--backlog", "0"])).is_err());
        assert!(parse(&args(&["--backlog", "lots"])).is_err());
        assert!(parse(&args(&["--jobs", "0"])).is_err());
        assert!(parse(&args(&["--repeat", "0"])).is_err());
        assert!(parse(&args(&["--frobnicate"])).is_err());
    }
}
