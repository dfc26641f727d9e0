//! Shared by the test files: where Redis is, fresh queue names, a factory for the suite.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::ClientLike;
use fred::types::CustomCommand;
use queue_core::{Backend, JobId};
use queue_redis::{fred, RedisQueue};
use queue_testkit::{Factory, Setup};

/// The Redis the tests use: `REDIS_URL`, else the local default.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A queue name no other test uses.
pub fn fresh_name() -> String {
    format!("qt-{}", JobId::new().to_string().to_lowercase())
}

/// Opens a queue, failing loudly (naming what to start) when Redis is missing.
pub async fn open(url: &str, name: &str, setup: Setup) -> RedisQueue {
    RedisQueue::builder(name)
        .url(url)
        .lease_timeout(setup.lease_timeout)
        .retry(setup.retry)
        .pool_size(2)
        .command_timeout(Duration::from_secs(30))
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Redis is not reachable at {url}: {e}. Start one (`redis-server`, or \
                 `cargo xtask test`, which starts one), or set REDIS_URL."
            )
        })
}

/// Gives each check its own queue name on one server, and deletes the queues afterwards.
pub struct RedisFactory {
    url: String,
    made: Mutex<Vec<Arc<RedisQueue>>>,
}

impl RedisFactory {
    /// A factory on `url`.
    pub fn new(url: String) -> Self {
        RedisFactory {
            url,
            made: Mutex::new(Vec::new()),
        }
    }
}

impl Default for RedisFactory {
    fn default() -> Self {
        RedisFactory::new(redis_url())
    }
}

#[async_trait]
impl Factory for RedisFactory {
    async fn make(&self, setup: Setup) -> Arc<dyn Backend> {
        let q = Arc::new(open(&self.url, &fresh_name(), setup).await);
        self.made.lock().unwrap().push(q.clone());
        q
    }

    /// Two clients (pools and subscribers) on one queue name, as two processes would have.
    async fn make_pair(&self, setup: Setup) -> [Arc<dyn Backend>; 2] {
        let name = fresh_name();
        let a = Arc::new(open(&self.url, &name, setup).await);
        let b = Arc::new(open(&self.url, &name, setup).await);
        self.made.lock().unwrap().push(a.clone());
        [a, b]
    }

    async fn cleanup(&self) {
        let made: Vec<_> = std::mem::take(&mut *self.made.lock().unwrap());
        for q in made {
            q.drop_all().await.expect("drop_all failed");
        }
    }
}

/// Every key of the queue (KEYS is fine on a test server).
pub async fn keys_of(q: &RedisQueue) -> Vec<String> {
    let pattern = format!(
        "{}*",
        q.key_prefix().replace('{', "\\{").replace('}', "\\}")
    );
    q.pool()
        .next()
        .custom(
            CustomCommand::new_static("KEYS", None, false),
            vec![pattern],
        )
        .await
        .unwrap()
}

/// Deletes the keys of test runs that ended more than 30 minutes ago without cleaning up
/// (a failed or killed test): their queue names carry the ULID of when they were made.
pub async fn sweep_stale_queues() {
    let probe = open(&redis_url(), &fresh_name(), Setup::default()).await;
    let client = probe.pool().next();
    let keys: Vec<String> = client
        .custom(
            CustomCommand::new_static("KEYS", None, false),
            vec!["{qt-*".to_string()],
        )
        .await
        .unwrap_or_default();
    let cutoff = JobId::new().timestamp_ms().saturating_sub(30 * 60 * 1000);
    let made = |key: &str| {
        let name = key.strip_prefix("{qt-")?.split_once('}')?.0;
        Some(name.to_uppercase().parse::<JobId>().ok()?.timestamp_ms())
    };
    let stale: Vec<String> = keys
        .into_iter()
        .filter(|k| made(k).is_some_and(|ms| ms < cutoff))
        .collect();
    for chunk in stale.chunks(500) {
        let _: Result<i64, _> = client
            .custom(
                CustomCommand::new_static("DEL", None, false),
                chunk.to_vec(),
            )
            .await;
    }
    let _ = probe.drop_all().await;
}
