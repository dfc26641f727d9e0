//! The one table of every scenario and backend.

use crate::analysis::Findings;
use crate::scenario::Scenario;

/// One scenario's line of the table.
#[derive(Clone, Debug, Default)]
pub struct Row {
    /// The backend.
    pub backend: String,
    /// The scenario.
    pub scenario: String,
    /// What was injected.
    pub faults: String,
    /// Jobs enqueued.
    pub enqueued: usize,
    /// Jobs completed in the backend.
    pub completed: usize,
    /// Jobs dead-lettered.
    pub failed: usize,
    /// Jobs neither completed nor failed.
    pub lost: usize,
    /// Jobs whose handler ran to the end more than once.
    pub duplicates: usize,
    /// Pairs of runs of one job live at once.
    pub overlapping: usize,
    /// Runs started over the limit, and most runs live at once; `None` for a scenario
    /// without a limit.
    pub over_limit: Option<(usize, usize)>,
    /// Handler runs in the ledgers.
    pub runs: usize,
    /// Runs killed with their process.
    pub killed_runs: usize,
    /// Seconds the scenario took.
    pub secs: f64,
    /// Why it failed, or `None`.
    pub failure: Option<String>,
    /// Ledger lines of overlaps, lost and failed jobs.
    pub details: Vec<String>,
}

impl Row {
    /// An empty row for `scn`.
    pub fn new(scn: &Scenario) -> Row {
        Row {
            backend: scn.backend.name().into(),
            scenario: scn.name.into(),
            ..Row::default()
        }
    }

    /// Fills the counts from the analysis.
    pub fn set(&mut self, f: &Findings, faults: String) {
        self.faults = faults;
        self.enqueued = f.enqueued;
        self.completed = f.completed;
        self.failed = f.failed.len();
        self.lost = f.lost.len();
        self.duplicates = f.duplicate_completions;
        self.overlapping = f.overlaps.len();
        self.over_limit = f.limit.as_ref().map(|l| (l.over.len(), l.peak));
        self.runs = f.runs;
        self.killed_runs = f.killed_runs;
    }
}

/// The rows as a markdown table, then what went wrong in the failed ones.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| backend | scenario | faults | enqueued | completed | failed | lost | duplicate completions | overlapping runs | over limit (peak live) | runs (killed) | s | result |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {:.1} | {} |\n",
            r.backend,
            r.scenario,
            r.faults,
            r.enqueued,
            r.completed,
            r.failed,
            r.lost,
            r.duplicates,
            r.overlapping,
            r.over_limit
                .map_or("-".into(), |(n, peak)| format!("{n} ({peak})")),
            r.runs,
            r.killed_runs,
            r.secs,
            if r.failure.is_some() { "FAIL" } else { "ok" }
        ));
    }
    for r in rows {
        if let Some(why) = &r.failure {
            out.push_str(&format!("\n{} / {}: FAIL: {why}\n", r.backend, r.scenario));
            for d in &r.details {
                out.push_str(&format!("  {d}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_rows_say_why_under_the_table() {
        let ok = Row {
            backend: "sqlite".into(),
            scenario: "s".into(),
            enqueued: 3,
            completed: 3,
            ..Row::default()
        };
        let bad = Row {
            failure: Some("1 overlapping runs".into()),
            details: vec!["overlap: job x".into()],
            ..ok.clone()
        };
        let limited = Row {
            over_limit: Some((0, 6)),
            ..ok.clone()
        };
        let t = table(&[ok, bad, limited]);
        assert_eq!(t.lines().filter(|l| l.starts_with("| sqlite")).count(), 3);
        assert!(t.contains("| 0 | - | 0 (0) |") && t.contains("| 0 | 0 (6) | 0 (0) |"));
        assert!(t.contains("| ok |") && t.contains("| FAIL |"));
        assert!(t.contains("sqlite / s: FAIL: 1 overlapping runs\n  overlap: job x"));
    }
}
