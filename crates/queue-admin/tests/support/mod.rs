//! Shared by the test files: the backends to run against, an in-process HTTP client, and a
//! backend that always fails.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod backends;
pub mod broken;
pub mod client;

use std::future::Future;
use std::time::{Duration, Instant};

/// Waits (bounded) until `cond` holds; panics naming `what` otherwise.
pub async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
