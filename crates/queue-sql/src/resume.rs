//! Where a process's next claim starts in the claim index.
//!
//! A claimed job leaves a dead entry at the head of the claim index until VACUUM (Postgres)
//! or the purge thread (InnoDB) removes it, so a claim that starts at the head walks over
//! every job claimed since: with a large backlog that walk, not the work, was most of a
//! claim's cost. While claims come back full, the next one resumes after the last job the
//! previous one took.
//!
//! What a resumed claim can miss, and for how long:
//! - jobs of a higher priority than the resume point: never; the claim always looks for
//!   them from the head of their priority;
//! - a job of the same priority put before the point (a due time in the past given by
//!   another process, an insert committed late, a claim of another process rolled back):
//!   until the next claim from the head, at most [`TRUST`] later, or as soon as a claim
//!   comes back short. The same process's own enqueues reset the point themselves.
//! - jobs of a kind paused meanwhile and resumed by another process: the same; resuming
//!   in this process drops every point.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use queue_core::{Job, NewJob, RunAt};
use time::OffsetDateTime;

/// How long claims may resume before one starts from the head again.
pub(crate) const TRUST: Duration = Duration::from_secs(1);

/// A position in claim order: negated priority, due time, id.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Point {
    pub rank: i64,
    pub due: OffsetDateTime,
    pub id: String,
    /// When the last claim from the head ran.
    since: Instant,
}

impl Point {
    fn of(job: &Job, since: Instant) -> Point {
        Point {
            rank: -i64::from(job.priority),
            due: job.scheduled_at,
            id: job.id.to_string(),
            since,
        }
    }
}

/// The resume points of one queue, per set of kinds claimed.
#[derive(Default)]
pub(crate) struct ResumePoints {
    points: Mutex<HashMap<Vec<String>, Point>>,
}

/// Where one claim starts, and what to remember after it.
pub(crate) struct Start {
    pub after: Option<Point>,
    since: Instant,
    /// The kinds claimed, as the map's key.
    kinds: Vec<String>,
}

fn kinds_key(kinds: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = kinds.iter().map(|s| s.to_string()).collect();
    k.sort_unstable();
    k.dedup();
    k
}

impl ResumePoints {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<String>, Point>> {
        self.points.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the next claim of `kinds` starts: after the point, or from the head when
    /// there is none or it is older than [`TRUST`].
    pub fn start(&self, kinds: &[&str]) -> Start {
        let now = Instant::now();
        let kinds = kinds_key(kinds);
        let after = self
            .lock()
            .get(&kinds)
            .filter(|p| now.duration_since(p.since) < TRUST)
            .cloned();
        let since = after.as_ref().map_or(now, |p| p.since);
        Start {
            after,
            since,
            kinds,
        }
    }

    /// Records a claim of `asked` rows that returned `rows` rows (`jobs` the good ones).
    /// Only a full claim leaves a point: a short one saw everything due after its start,
    /// and the next claim starts from the head.
    pub fn claimed(&self, start: Start, asked: usize, rows: usize, jobs: &[Job]) {
        let last = jobs
            .iter()
            .max_by_key(|j| (-i64::from(j.priority), j.scheduled_at, j.id));
        let mut points = self.lock();
        match last {
            Some(job) if rows >= asked => {
                points.insert(start.kinds, Point::of(job, start.since));
            }
            _ => {
                points.remove(&start.kinds);
            }
        }
    }

    /// Called when this process resumes a paused kind: its jobs may lie before any point.
    pub fn forget_all(&self) {
        self.lock().clear();
    }

    /// Called before this process enqueues `jobs`: a job due at a given time may land
    /// before a point of its priority, so such points are dropped.
    pub fn enqueuing(&self, jobs: &[NewJob]) {
        let mut points = self.lock();
        if points.is_empty() {
            return;
        }
        for job in jobs {
            if let RunAt::At(at) = job.run_at {
                let rank = -i64::from(job.priority);
                points.retain(|_, p| !(p.rank == rank && at <= p.due));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use queue_core::{JobId, JobState};
    use time::macros::datetime;

    fn job(priority: i32, due: OffsetDateTime) -> Job {
        Job {
            id: JobId::new(),
            kind: "k".into(),
            payload: serde_json::Value::Null,
            priority,
            attempts: 1,
            max_attempts: 3,
            created_at: due,
            scheduled_at: due,
            state: JobState::Running,
            unique_key: None,
            concurrency_key: None,
            last_error: None,
            lease: None,
            output: None,
            cancel_requested: false,
            finished_at: None,
        }
    }

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);
    const T1: OffsetDateTime = datetime!(2026-01-01 00:01 UTC);

    #[test]
    fn a_full_claim_resumes_after_its_last_job_in_claim_order() {
        let r = ResumePoints::default();
        assert_eq!(r.start(&["a"]).after, None);
        let jobs = [job(0, T1), job(5, T1), job(0, T0)];
        r.claimed(r.start(&["a"]), 3, 3, &jobs);
        let p = r.start(&["a"]).after.expect("a point");
        assert_eq!(
            (p.rank, p.due, p.id.clone()),
            (0, T1, jobs[0].id.to_string())
        );
        // The same set of kinds in another order shares the point; another set does not.
        assert_eq!(r.start(&["a", "a"]).after, Some(p));
        assert_eq!(r.start(&["a", "b"]).after, None);
    }

    #[test]
    fn a_short_claim_sends_the_next_one_to_the_head() {
        let r = ResumePoints::default();
        r.claimed(r.start(&["a"]), 2, 2, &[job(0, T0), job(0, T1)]);
        assert!(r.start(&["a"]).after.is_some());
        r.claimed(r.start(&["a"]), 2, 1, &[job(0, T1)]);
        assert_eq!(r.start(&["a"]).after, None);
    }

    #[test]
    fn a_point_is_trusted_for_a_while_from_the_last_claim_from_the_head() {
        let r = ResumePoints::default();
        let Some(long_ago) = Instant::now().checked_sub(TRUST + Duration::from_millis(1)) else {
            return;
        };
        r.claimed(
            Start {
                after: None,
                since: long_ago,
                kinds: kinds_key(&["a"]),
            },
            1,
            1,
            &[job(0, T0)],
        );
        // Resuming claims keep the time of the head claim, so the point expires.
        assert_eq!(r.start(&["a"]).after, None);
        let start = r.start(&["a"]);
        assert!(start.since > long_ago);
    }

    #[test]
    fn enqueuing_a_job_due_before_a_point_of_its_priority_drops_it() {
        let r = ResumePoints::default();
        r.claimed(r.start(&["a"]), 1, 1, &[job(0, T1)]);
        // Later, or of another priority (higher ones are always looked for from the head):
        // the point stays.
        let later = Job::new("a", serde_json::Value::Null).run_at(T1 + time::Duration::SECOND);
        r.enqueuing(&[
            later,
            Job::new("a", serde_json::Value::Null)
                .priority(3)
                .run_at(T0),
        ]);
        assert!(r.start(&["a"]).after.is_some());
        r.enqueuing(&[Job::new("a", serde_json::Value::Null).run_at(T0)]);
        assert_eq!(r.start(&["a"]).after, None);
    }
}
