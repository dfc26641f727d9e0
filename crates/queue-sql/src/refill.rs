//! A claim that meets rows it cannot decode sets them aside; those rows took slots of the
//! batch, so the claim asks again for that many, a bounded number of times. Without this a
//! corrupt row ahead of good work made a claim come back short, even empty.

use std::cmp::Reverse;
use std::future::Future;

use queue_core::{Job, Result};

/// How many claim statements one `dequeue_batch` may run.
const MAX_CLAIM_ROUNDS: usize = 8;

/// Runs `claim_once(n)` (the good jobs of one claim of up to `n` rows, and how many rows it
/// set aside) until no slot was lost to a bad row or the queue ran out of due rows. Returns
/// the jobs in claim order: priority, then due time, then id.
pub(crate) async fn claim_refilling<F, Fut>(max: usize, mut claim_once: F) -> Result<Vec<Job>>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(Vec<Job>, usize)>>,
{
    let mut jobs = Vec::new();
    let mut want = max;
    for _ in 0..MAX_CLAIM_ROUNDS {
        if want == 0 {
            break;
        }
        let (more, bad) = claim_once(want).await?;
        let drained = more.len() + bad < want;
        jobs.extend(more);
        if bad == 0 || drained {
            break;
        }
        want = bad;
    }
    // RETURNING has no defined order.
    jobs.sort_by_key(|j| (Reverse(j.priority), j.scheduled_at, j.id));
    Ok(jobs)
}
