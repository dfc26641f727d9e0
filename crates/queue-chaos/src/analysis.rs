//! What the ledgers and the backend's final states prove: lost jobs, duplicate
//! completions, overlapping runs of one job, and, under a limit, more runs live at once
//! per concurrency key or in all than the limit allows.
//!
//! A run lasts from its start to its end, `[start, end)`. A run whose process was
//! SIGKILLed before its end line was written ends at the kill (taken once the process
//! was reaped, so on the late side); a run whose process exited without one ends at the
//! exit, and is reported. Two runs of one job overlap when their intervals do: both were
//! live at once. A killed process's run therefore never overlaps a claim made after the
//! kill, and any overlap is two live runs at once.
//!
//! The same intervals count the runs live at once under a [`Limit`]: a run holds its
//! key's slot (and one of the kind's) at least from its start to its end, so more runs
//! live at once than the limit allows is a limit broken.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use queue_core::Limit;

use crate::ledger::{EndKind, Event};

/// How a worker process ended, as the harness saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// SIGKILLed by the harness; reaped at `at` (micros).
    Killed {
        /// When the process was reaped.
        at: u64,
    },
    /// Exited on its own or when told to; reaped at `at` (micros).
    Exited {
        /// When the process was reaped.
        at: u64,
    },
}

/// A job's state in the backend at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Final {
    /// Completed (and retained).
    Completed,
    /// Dead-lettered, with its last error.
    Failed(String),
    /// Anything else: pending, running, cancelled, or gone.
    Other(String),
}

/// One run of a job, from the ledgers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The worker process.
    pub pid: u32,
    /// The run's number in its process.
    pub seq: u64,
    /// The job's attempt.
    pub attempt: u32,
    /// Start, micros.
    pub start: u64,
    /// End, micros (see the module docs for runs without an end line).
    pub end: u64,
    /// How it ended.
    pub how: RunEnd,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Its handler ran to the end.
    Done,
    /// Its handler was stopped.
    Stopped,
    /// Its process was killed during the run.
    Killed,
    /// Its process exited (or is unaccounted for) without recording the end.
    Unended,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} run {} attempt {} [{} .. {}) {:?}",
            self.pid, self.seq, self.attempt, self.start, self.end, self.how
        )
    }
}

/// Two runs of one job that were live at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// The job.
    pub job: String,
    /// The run that started first.
    pub first: Run,
    /// The run that started while the first was live.
    pub second: Run,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "job {}: {} overlaps {}",
            self.job, self.first, self.second
        )
    }
}

/// A run that started while the limit's share of runs was already live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverLimit {
    /// The key over its limit, or `None` for the kind-wide limit.
    pub key: Option<String>,
    /// Runs live at once with this one (itself included).
    pub live: usize,
    /// What the limit allows.
    pub allowed: u32,
    /// The job of the run that went over.
    pub job: String,
    /// The run that went over.
    pub run: Run,
}

impl fmt::Display for OverLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "key {key}: ")?,
            None => write!(f, "in all: ")?,
        }
        write!(
            f,
            "{} live runs, limit {}, when job {} started: {}",
            self.live, self.allowed, self.job, self.run
        )
    }
}

/// The runs checked against a limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitCheck {
    /// Runs that started over the limit.
    pub over: Vec<OverLimit>,
    /// Most runs live at once, across every key: at the kind-wide limit when it binds.
    pub peak: usize,
}

/// Everything the analysis needs.
#[derive(Debug, Default)]
pub struct Input {
    /// The ids the harness enqueued.
    pub enqueued: Vec<String>,
    /// Their states in the backend at the end (a missing id is gone).
    pub finals: HashMap<String, Final>,
    /// Every worker ledger's events.
    pub events: Vec<Event>,
    /// How each worker process ended.
    pub fates: HashMap<u32, Fate>,
    /// When the analysis runs (micros): the end of runs of processes without a fate.
    pub now: u64,
    /// The limit stored on the jobs' kind, if any: its `concurrency` and
    /// `key_concurrency` are checked.
    pub limit: Option<Limit>,
    /// Each job's concurrency key (jobs missing here have none).
    pub keys: HashMap<String, String>,
}

/// What the analysis found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Jobs enqueued.
    pub enqueued: usize,
    /// Enqueued jobs completed in the backend.
    pub completed: usize,
    /// Enqueued jobs dead-lettered, with their errors.
    pub failed: Vec<(String, String)>,
    /// Enqueued jobs neither completed nor failed, with their state.
    pub lost: Vec<(String, String)>,
    /// Jobs whose handler ran to the end more than once.
    pub duplicate_completions: usize,
    /// Runs of one job live at once.
    pub overlaps: Vec<Overlap>,
    /// Handler runs in the ledgers.
    pub runs: usize,
    /// Runs killed with their process.
    pub killed_runs: usize,
    /// Runs whose process exited without recording their end.
    pub unended: Vec<Run>,
    /// Completed jobs no run of which ran to the end (completed without running).
    pub completed_unrun: Vec<String>,
    /// Jobs that ran but were never enqueued here.
    pub strangers: Vec<String>,
    /// Ledger problems: end lines without a start, repeated lines.
    pub malformed: Vec<String>,
    /// The runs checked against the limit; `None` when no limit was set.
    pub limit: Option<LimitCheck>,
}

impl Findings {
    /// Why these findings fail the scenario, or `None` when they pass: nothing lost, no
    /// overlap, nothing dead-lettered (attempts are plenty), and a consistent ledger.
    pub fn verdict(&self) -> Option<String> {
        let mut why = Vec::new();
        if !self.lost.is_empty() {
            why.push(format!("{} lost, e.g. {:?}", self.lost.len(), self.lost[0]));
        }
        if !self.overlaps.is_empty() {
            why.push(format!(
                "{} overlapping runs, e.g. {}",
                self.overlaps.len(),
                self.overlaps[0]
            ));
        }
        if let Some(over) = self
            .limit
            .as_ref()
            .map(|l| &l.over)
            .filter(|o| !o.is_empty())
        {
            why.push(format!(
                "{} runs over the limit, e.g. {}",
                over.len(),
                over[0]
            ));
        }
        if !self.failed.is_empty() {
            why.push(format!(
                "{} failed, e.g. {:?}",
                self.failed.len(),
                self.failed[0]
            ));
        }
        if !self.unended.is_empty() {
            why.push(format!(
                "{} runs never ended in a process that exited, e.g. {}",
                self.unended.len(),
                self.unended[0]
            ));
        }
        if !self.completed_unrun.is_empty() {
            why.push(format!(
                "{} completed without a finished run, e.g. {}",
                self.completed_unrun.len(),
                self.completed_unrun[0]
            ));
        }
        if !self.strangers.is_empty() {
            why.push(format!("jobs never enqueued ran: {:?}", self.strangers));
        }
        if !self.malformed.is_empty() {
            why.push(format!("inconsistent ledger: {:?}", self.malformed));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

/// Pairs the ledgers' lines into runs and checks them against the backend.
pub fn analyse(input: &Input) -> Findings {
    let mut f = Findings {
        enqueued: input.enqueued.len(),
        ..Findings::default()
    };
    let runs = runs(input, &mut f);
    f.runs = runs.values().map(Vec::len).sum();

    let enqueued: HashSet<&str> = input.enqueued.iter().map(String::as_str).collect();
    for (job, runs) in &runs {
        if !enqueued.contains(job.as_str()) {
            f.strangers.push(job.clone());
        }
        if runs.iter().filter(|r| r.how == RunEnd::Done).count() > 1 {
            f.duplicate_completions += 1;
        }
        // Sorted by start: a run overlaps a later one that starts before it ends.
        for (i, a) in runs.iter().enumerate() {
            for b in &runs[i + 1..] {
                if b.start < a.end {
                    f.overlaps.push(Overlap {
                        job: job.clone(),
                        first: a.clone(),
                        second: b.clone(),
                    });
                }
            }
        }
    }

    f.limit = input
        .limit
        .as_ref()
        .map(|limit| check_limit(&runs, &input.keys, limit));

    for id in &input.enqueued {
        match input.finals.get(id) {
            Some(Final::Completed) => {
                f.completed += 1;
                let ran = runs
                    .get(id)
                    .is_some_and(|r| r.iter().any(|r| r.how == RunEnd::Done));
                if !ran {
                    f.completed_unrun.push(id.clone());
                }
            }
            Some(Final::Failed(e)) => f.failed.push((id.clone(), e.clone())),
            Some(Final::Other(state)) => f.lost.push((id.clone(), state.clone())),
            None => f.lost.push((id.clone(), "gone".into())),
        }
    }
    f
}

/// Finds the runs that started while their key's, or the kind's, share of runs was live.
pub fn check_limit(
    runs: &BTreeMap<String, Vec<Run>>,
    keys: &HashMap<String, String>,
    limit: &Limit,
) -> LimitCheck {
    // Starts and ends in time order; at one instant ends first, as runs are [start, end).
    // An empty run holds nothing.
    let mut moments: Vec<(u64, bool, &str, &Run)> = Vec::new();
    for (job, runs) in runs {
        for run in runs.iter().filter(|r| r.start < r.end) {
            moments.push((run.start, true, job, run));
            moments.push((run.end, false, job, run));
        }
    }
    moments.sort_by_key(|&(at, start, _, run)| (at, start, run.pid, run.seq));

    let mut out = LimitCheck::default();
    let mut live = 0usize;
    let mut live_by_key: HashMap<&str, usize> = HashMap::new();
    for (_, start, job, run) in moments {
        let key = keys.get(job).map(String::as_str);
        if !start {
            live -= 1;
            if let Some(n) = key.and_then(|k| live_by_key.get_mut(k)) {
                *n -= 1;
            }
            continue;
        }
        live += 1;
        out.peak = out.peak.max(live);
        let mut over = |key: Option<&str>, live: usize, allowed: Option<u32>| {
            if let Some(allowed) = allowed.filter(|&a| live > a as usize) {
                out.over.push(OverLimit {
                    key: key.map(str::to_string),
                    live,
                    allowed,
                    job: job.to_string(),
                    run: run.clone(),
                });
            }
        };
        if let Some(key) = key {
            let n = live_by_key.entry(key).or_default();
            *n += 1;
            over(Some(key), *n, limit.key_concurrency);
        }
        over(None, live, limit.concurrency);
    }
    out
}

/// Every run by job, sorted by start.
fn runs(input: &Input, f: &mut Findings) -> BTreeMap<String, Vec<Run>> {
    // (pid, seq) → (job, run) while pairing.
    let mut open: HashMap<(u32, u64), (String, Run)> = HashMap::new();
    let mut closed: Vec<(String, Run)> = Vec::new();
    for e in &input.events {
        match e {
            Event::Start {
                pid,
                seq,
                job,
                attempt,
                at,
            } => {
                let run = Run {
                    pid: *pid,
                    seq: *seq,
                    attempt: *attempt,
                    start: *at,
                    end: u64::MAX,
                    how: RunEnd::Unended,
                };
                if open.insert((*pid, *seq), (job.clone(), run)).is_some() {
                    f.malformed
                        .push(format!("run {seq} of pid {pid} started twice"));
                }
            }
            Event::End { pid, seq, at, kind } => match open.remove(&(*pid, *seq)) {
                Some((job, mut run)) => {
                    run.end = *at;
                    run.how = match kind {
                        EndKind::Done => RunEnd::Done,
                        EndKind::Stopped => RunEnd::Stopped,
                    };
                    closed.push((job, run));
                }
                None => f
                    .malformed
                    .push(format!("run {seq} of pid {pid} ended without a start")),
            },
        }
    }
    for (_, (job, mut run)) in open {
        match input.fates.get(&run.pid) {
            Some(Fate::Killed { at }) => {
                run.end = *at;
                run.how = RunEnd::Killed;
                f.killed_runs += 1;
            }
            Some(Fate::Exited { at }) => {
                run.end = *at;
                f.unended.push(run.clone());
            }
            None => {
                run.end = input.now;
                f.unended.push(run.clone());
            }
        }
        closed.push((job, run));
    }
    let mut by_job: BTreeMap<String, Vec<Run>> = BTreeMap::new();
    for (job, run) in closed {
        by_job.entry(job).or_default().push(run);
    }
    for runs in by_job.values_mut() {
        runs.sort_by_key(|r| (r.start, r.pid, r.seq));
    }
    f.unended.sort_by_key(|r| (r.start, r.pid, r.seq));
    by_job
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ledger::parse;

    fn input(ledger: &str, fates: &[(u32, Fate)], finals: &[(&str, Final)]) -> Input {
        Input {
            enqueued: finals.iter().map(|(id, _)| id.to_string()).collect(),
            finals: finals
                .iter()
                .map(|(id, f)| (id.to_string(), f.clone()))
                .collect(),
            events: parse(ledger).unwrap().events,
            fates: fates.iter().copied().collect(),
            now: 1_000_000,
            ..Input::default()
        }
    }

    /// Runs of jobs `(job, key, start, end)`, one per process.
    fn keyed(
        runs: &[(&str, &str, u64, u64)],
    ) -> (BTreeMap<String, Vec<Run>>, HashMap<String, String>) {
        let mut by_job: BTreeMap<String, Vec<Run>> = BTreeMap::new();
        let mut keys = HashMap::new();
        for (pid, &(job, key, start, end)) in runs.iter().enumerate() {
            by_job.entry(job.into()).or_default().push(Run {
                pid: pid as u32,
                seq: 0,
                attempt: 1,
                start,
                end,
                how: RunEnd::Done,
            });
            keys.insert(job.to_string(), key.to_string());
        }
        (by_job, keys)
    }

    #[test]
    fn two_live_runs_of_one_key_are_over_a_per_key_limit() {
        let (runs, keys) = keyed(&[("a", "k1", 10, 30), ("b", "k1", 20, 40)]);
        let over = check_limit(&runs, &keys, &Limit::per_key(1).with_concurrency(6)).over;
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].key.as_deref(), Some("k1"));
        assert_eq!(
            (over[0].job.as_str(), over[0].live, over[0].allowed),
            ("b", 2, 1)
        );
    }

    #[test]
    fn runs_of_different_keys_or_back_to_back_are_within_a_per_key_limit() {
        let (runs, keys) = keyed(&[
            ("a", "k1", 10, 30),
            ("b", "k2", 20, 40),
            // Starts as "a" ends: [start, end) do not meet.
            ("c", "k1", 30, 50),
        ]);
        let check = check_limit(&runs, &keys, &Limit::per_key(1).with_concurrency(6));
        assert_eq!((check.over, check.peak), (Vec::new(), 2));
    }

    #[test]
    fn more_live_runs_than_the_kind_allows_are_over_its_limit() {
        let (runs, keys) = keyed(&[
            ("a", "k1", 10, 30),
            ("b", "k2", 15, 40),
            ("c", "k3", 20, 50),
            // "a" and "b" have ended: two live again.
            ("d", "k4", 40, 60),
        ]);
        let check = check_limit(&runs, &keys, &Limit::per_key(1).with_concurrency(2));
        assert_eq!(check.peak, 3);
        let over = check.over;
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].key, None);
        assert_eq!((over[0].job.as_str(), over[0].live), ("c", 3));
    }

    #[test]
    fn a_run_over_the_limit_fails_the_verdict_and_none_without_a_limit() {
        let mut inp = input(
            "S 1 0 a 1 10\nS 2 0 b 1 15\nE 1 0 20 done\nE 2 0 30 done\n",
            &[(1, Fate::Exited { at: 100 }), (2, Fate::Exited { at: 100 })],
            &[("a", Final::Completed), ("b", Final::Completed)],
        );
        assert_eq!(analyse(&inp).limit, None);
        assert_eq!(analyse(&inp).verdict(), None);
        inp.keys = [("a", "k"), ("b", "k")]
            .iter()
            .map(|(j, k)| (j.to_string(), k.to_string()))
            .collect();
        inp.limit = Some(Limit::per_key(1));
        let f = analyse(&inp);
        assert_eq!(
            f.limit.as_ref().map(|l| (l.over.len(), l.peak)),
            Some((1, 2))
        );
        assert!(f
            .verdict()
            .unwrap()
            .contains("1 runs over the limit, e.g. key k: 2 live"));
    }

    #[test]
    fn a_clean_run_passes() {
        let f = analyse(&input(
            "S 1 0 a 1 10\nE 1 0 20 done\nS 2 0 b 1 15\nE 2 0 25 done\n",
            &[(1, Fate::Exited { at: 100 }), (2, Fate::Exited { at: 100 })],
            &[("a", Final::Completed), ("b", Final::Completed)],
        ));
        assert_eq!((f.completed, f.runs), (2, 2));
        assert_eq!(f.verdict(), None);
    }

    #[test]
    fn two_live_runs_of_one_job_overlap() {
        let f = analyse(&input(
            "S 1 0 a 1 10\nS 2 0 a 2 15\nE 1 0 20 done\nE 2 0 30 done\n",
            &[],
            &[("a", Final::Completed)],
        ));
        assert_eq!(f.overlaps.len(), 1);
        assert_eq!(f.overlaps[0].first.pid, 1);
        assert_eq!(f.overlaps[0].second.pid, 2);
        assert_eq!(f.duplicate_completions, 1);
        assert!(f.verdict().unwrap().contains("1 overlapping"));
    }

    #[test]
    fn back_to_back_runs_do_not_overlap_but_count_as_duplicates() {
        let f = analyse(&input(
            "S 1 0 a 1 10\nE 1 0 20 done\nS 2 0 a 2 20\nE 2 0 30 done\n",
            &[],
            &[("a", Final::Completed)],
        ));
        assert!(f.overlaps.is_empty());
        assert_eq!(f.duplicate_completions, 1);
        assert_eq!(f.verdict(), None, "at-least-once allows a rerun");
    }

    #[test]
    fn a_run_killed_before_the_next_claim_does_not_overlap_it() {
        // pid 1 dies at 50 in the middle of its run (its last line torn); pid 2 runs the
        // job again from 1050, after the lease ran out.
        let ledger = "S 1 0 a 1 10\nS 2 0 a 2 1050\nE 2 0 1060 done\nS 1 1 b";
        let f = analyse(&input(
            ledger,
            &[(1, Fate::Killed { at: 50 }), (2, Fate::Exited { at: 2000 })],
            &[("a", Final::Completed)],
        ));
        assert!(f.overlaps.is_empty());
        assert_eq!(f.killed_runs, 1);
        assert_eq!(f.verdict(), None);
    }

    #[test]
    fn a_run_killed_after_another_started_overlaps_it() {
        let f = analyse(&input(
            "S 1 0 a 1 10\nS 2 0 a 2 40\nE 2 0 60 done\n",
            &[(1, Fate::Killed { at: 50 }), (2, Fate::Exited { at: 100 })],
            &[("a", Final::Completed)],
        ));
        assert_eq!(f.overlaps.len(), 1);
        assert_eq!(f.overlaps[0].first.how, RunEnd::Killed);
        assert_eq!(f.overlaps[0].first.end, 50);
    }

    #[test]
    fn a_run_never_ended_by_an_exited_process_is_reported_and_lasts_to_the_exit() {
        let f = analyse(&input(
            "S 1 0 a 1 10\nS 2 0 a 2 40\nE 2 0 60 done\n",
            &[(1, Fate::Exited { at: 50 }), (2, Fate::Exited { at: 100 })],
            &[("a", Final::Completed)],
        ));
        assert_eq!(f.unended.len(), 1);
        assert_eq!(f.overlaps.len(), 1);
    }

    #[test]
    fn jobs_not_completed_are_lost_and_failed_ones_are_counted_apart() {
        let f = analyse(&input(
            "S 1 0 a 1 10\nE 1 0 20 done\nS 1 1 b 1 10\nE 1 1 20 stopped\n",
            &[(1, Fate::Exited { at: 100 })],
            &[
                ("a", Final::Completed),
                ("b", Final::Other("running".into())),
                ("c", Final::Failed("boom".into())),
            ],
        ));
        assert_eq!(f.lost, [("b".to_string(), "running".to_string())]);
        assert_eq!(f.failed.len(), 1);
        let mut missing = input("", &[], &[("a", Final::Completed)]);
        missing.finals.clear();
        let f = analyse(&missing);
        assert_eq!(f.lost, [("a".to_string(), "gone".to_string())]);
    }

    #[test]
    fn completed_without_a_finished_run_and_strangers_fail() {
        let f = analyse(&input(
            "S 1 0 a 1 10\nE 1 0 20 stopped\nS 1 1 zz 1 10\nE 1 1 20 done\n",
            &[(1, Fate::Exited { at: 100 })],
            &[("a", Final::Completed)],
        ));
        assert_eq!(f.completed_unrun, ["a"]);
        assert_eq!(f.strangers, ["zz"]);
        assert!(f.verdict().is_some());
    }

    #[test]
    fn an_end_without_a_start_is_malformed() {
        let f = analyse(&input("E 1 0 20 done\n", &[], &[]));
        assert_eq!(f.malformed.len(), 1);
        assert!(f.verdict().is_some());
    }
}
