//! Assertions on what a [`MemoryQueue`] holds, for tests of code that enqueues jobs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use queue_core::{Job, JobArgs, JobFilter, JobState};

use crate::MemoryQueue;

/// How many jobs a failed assertion lists before it says "and N more".
const SHOWN: usize = 20;

impl MemoryQueue {
    /// The pending jobs of `kind` (due now or delayed), oldest first (by `created_at`,
    /// then id). Running and finished jobs are not listed.
    ///
    /// ```
    /// use queue_core::Job;
    /// use queue_memory::MemoryQueue;
    ///
    /// let queue = MemoryQueue::new();
    /// queue.try_enqueue(Job::new("email", serde_json::json!({"to": "a@example.com"})))?;
    /// let jobs = queue.enqueued("email");
    /// assert_eq!(jobs.len(), 1);
    /// assert_eq!(jobs[0].payload["to"], "a@example.com");
    /// # Ok::<(), queue_core::QueueError>(())
    /// ```
    pub fn enqueued(&self, kind: &str) -> Vec<Job> {
        let mut jobs: Vec<Job> = self
            .pending()
            .into_iter()
            .filter(|j| j.kind == kind)
            .collect();
        jobs.sort_by_key(|j| (j.created_at, j.id));
        jobs
    }

    /// The first pending job of `kind` that `matches`, oldest first.
    ///
    /// # Panics
    ///
    /// When there is none, with a message listing the pending jobs of `kind` and how many
    /// of every other kind are pending.
    ///
    /// ```
    /// use queue_core::Job;
    /// use queue_memory::MemoryQueue;
    ///
    /// let queue = MemoryQueue::new();
    /// queue.try_enqueue(Job::new("email", serde_json::json!({"to": "a@example.com"})).priority(2))?;
    /// let job = queue.assert_enqueued("email", |job| job.payload["to"] == "a@example.com");
    /// assert_eq!(job.priority, 2);
    /// # Ok::<(), queue_core::QueueError>(())
    /// ```
    #[track_caller]
    pub fn assert_enqueued(&self, kind: &str, matches: impl Fn(&Job) -> bool) -> Job {
        let jobs = self.enqueued(kind);
        match jobs.iter().find(|j| matches(j)) {
            Some(job) => job.clone(),
            None => panic!(
                "{}",
                self.report(
                    &format!("expected a pending `{kind}` job that matches, found none"),
                    kind,
                    &jobs
                )
            ),
        }
    }

    /// Like [`MemoryQueue::assert_enqueued`], on the decoded arguments of jobs of kind
    /// [`JobArgs::KIND`]. Returns the job and its arguments.
    ///
    /// # Panics
    ///
    /// When no pending job of that kind decodes to arguments that `matches`.
    #[track_caller]
    pub fn assert_enqueued_args<T: JobArgs>(&self, matches: impl Fn(&T) -> bool) -> (Job, T) {
        let jobs = self.enqueued(T::KIND);
        let found = jobs.iter().find_map(|j| {
            j.args::<T>()
                .ok()
                .filter(|a| matches(a))
                .map(|a| (j.clone(), a))
        });
        match found {
            Some(found) => found,
            None => panic!(
                "{}",
                self.report(
                    &format!(
                        "expected a pending `{}` job whose arguments match, found none",
                        T::KIND
                    ),
                    T::KIND,
                    &jobs
                )
            ),
        }
    }

    /// Panics when a pending job of `kind` `matches`, naming it.
    #[track_caller]
    pub fn assert_not_enqueued(&self, kind: &str, matches: impl Fn(&Job) -> bool) {
        let jobs = self.enqueued(kind);
        if let Some(job) = jobs.iter().find(|j| matches(j)) {
            panic!(
                "{}",
                self.report(
                    &format!(
                        "expected no pending `{kind}` job that matches, found {}",
                        describe(job)
                    ),
                    kind,
                    &jobs
                )
            );
        }
    }

    /// Every pending job, in no particular order.
    fn pending(&self) -> Vec<Job> {
        self.with_state(|st, _| {
            let n = usize::try_from(st.stats().get(JobState::Pending)).unwrap_or(usize::MAX);
            if n == 0 {
                Vec::new()
            } else {
                st.list(&JobFilter::new().state(JobState::Pending), n)
            }
        })
    }

    /// A failed assertion's message: what was expected, then what is there.
    fn report(&self, expected: &str, kind: &str, jobs: &[Job]) -> String {
        let mut out = format!("{expected}\npending `{kind}` jobs: {}", jobs.len());
        for job in jobs.iter().take(SHOWN) {
            let _ = write!(out, "\n  {}", describe(job));
        }
        if jobs.len() > SHOWN {
            let _ = write!(out, "\n  … and {} more", jobs.len() - SHOWN);
        }
        let mut others: BTreeMap<String, usize> = BTreeMap::new();
        for job in self.pending().into_iter().filter(|j| j.kind != kind) {
            *others.entry(job.kind).or_default() += 1;
        }
        if others.is_empty() {
            out.push_str("\nno pending jobs of other kinds");
        } else {
            let list: Vec<String> = others.iter().map(|(k, n)| format!("`{k}` ({n})")).collect();
            let _ = write!(out, "\npending jobs of other kinds: {}", list.join(", "));
        }
        out
    }
}

/// One line about a job: id, payload and what was set on it.
fn describe(job: &Job) -> String {
    let mut line = format!("{} {}", job.id, job.payload);
    if job.priority != 0 {
        let _ = write!(line, " priority {}", job.priority);
    }
    let _ = write!(line, " scheduled_at {}", job.scheduled_at);
    if let Some(key) = &job.unique_key {
        let _ = write!(line, " unique_key {key:?}");
    }
    if job.attempts > 0 {
        let _ = write!(line, " attempts {}/{}", job.attempts, job.max_attempts);
    }
    line
}
