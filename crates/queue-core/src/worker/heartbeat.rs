//! Keeps the leases of running jobs alive, and stops jobs whose lease was lost.

use std::sync::Arc;
use std::time::Duration;

use super::shared::{Counters, Shared};
use crate::Lease;

pub(crate) async fn heartbeat_loop(shared: Arc<Shared>) {
    loop {
        // A third of the lease leaves two more beats before it can run out.
        let every = (shared.queue.lease_timeout() / 3).max(Duration::from_millis(5));
        tokio::time::sleep(every).await;
        let leases: Vec<Lease> = shared.lock().running.values().map(|r| r.lease).collect();
        if leases.is_empty() {
            continue;
        }
        match shared.queue.heartbeat(&leases).await {
            Ok(held) => {
                for (lease, ok) in leases.iter().zip(held) {
                    if !ok {
                        lost(&shared, lease);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "lease heartbeat failed"),
        }
    }
}

/// Another claimant may run the job now: stop ours so it never runs twice at once.
fn lost(shared: &Shared, lease: &Lease) {
    if let Some(r) = shared.take_running(lease.id) {
        if let Some(abort) = r.abort {
            abort.abort();
        }
        Counters::add(&shared.counters.lease_lost, 1);
        tracing::warn!(id = %lease.id, "lease lost while running; handler stopped");
    }
}
