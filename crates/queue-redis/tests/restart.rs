//! A Redis restart in the middle of a run, on a throw-away server of this test's own
//! (the shared server is never restarted: other tests use it) that keeps every write in
//! its append-only file: the worker logs, backs off and reconnects, scripts are loaded
//! again, wake-ups come back, and no job that Redis kept is lost or runs twice at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use queue_redis::RedisQueue;
use queue_servers::{RedisOptions, RedisServer};

#[test]
fn jobs_survive_a_server_restart() {
    // Started outside the runtime: starting and stopping a server blocks.
    let opts = RedisOptions::default().persistent(true);
    let Some(server) = RedisServer::start_unless_skipped(opts).unwrap_or_else(|e| panic!("{e}"))
    else {
        return;
    };
    let server = Arc::new(server);
    let url = server.url();
    let (stop, start) = (server.clone(), server.clone());
    queue_testkit::restart::block_on(async move {
        // A short lease, so leases run out while the server is down; every completed
        // job kept, so the end can check them all.
        let open = || {
            RedisQueue::builder("restart")
                .url(&url)
                .lease_timeout(Duration::from_secs(1))
                .keep_last_completed(10_000)
                .build()
        };
        let worker_queue = open().await.unwrap();
        let producer = open().await.unwrap();
        queue_testkit::restart::jobs_survive_a_restart(
            Arc::new(worker_queue),
            Arc::new(producer),
            move || stop.stop(),
            move || start.start_again(),
        )
        .await;
    });
}
