//! A Postgres restart in the middle of a run, on a throw-away server of this test's own
//! (the shared server is never restarted: other tests use it): the worker logs, backs
//! off and reconnects, LISTEN comes back, and no job is lost or run twice at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use queue_servers::PostgresServer;
use queue_sql::{SqlOptions, SqlQueue};

#[test]
fn jobs_survive_a_server_restart() {
    // Started outside the runtime: starting and stopping a server blocks.
    let Some(server) = PostgresServer::start_unless_skipped().unwrap_or_else(|e| panic!("{e}"))
    else {
        return;
    };
    let server = Arc::new(server);
    let url = server.url();
    let (stop, start) = (server.clone(), server.clone());
    queue_testkit::restart::block_on(async move {
        // A short lease, so leases run out while the server is down.
        let opts = SqlOptions::default()
            .table("restart_jobs")
            .lease_timeout(Duration::from_secs(1));
        let worker_queue = SqlQueue::connect_with(&url, opts.clone()).await.unwrap();
        let producer = SqlQueue::connect_with(&url, opts).await.unwrap();
        queue_testkit::restart::jobs_survive_a_restart(
            Arc::new(worker_queue),
            Arc::new(producer),
            move || stop.stop(),
            move || start.start_again(),
        )
        .await;
    });
}
