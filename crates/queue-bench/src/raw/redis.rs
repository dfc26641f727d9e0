//! The Redis baseline: a hash per job and one sorted set of ready ids, filled by pipelines
//! (an `HSET` per job, one `ZADD` per chunk) and drained by `ZPOPMIN` then a pipeline of
//! an `HGET` per popped job and one `DEL` of them all.

use std::time::Instant;

use async_trait::async_trait;
use queue_redis::fred::prelude::{
    Builder, ClientLike, Config, HashesInterface, KeysInterface, Pool, SortedSetsInterface, Value,
};
use queue_redis::fred::types::{ClusterHash, CustomCommand};

use super::{check_drained, fresh_name, RawBaseline, CLAIM, PAYLOAD};
use crate::chunks::in_chunks;
use crate::Error;

/// Connections, and tasks draining at once: the queue's default pool size.
const CONNECTIONS: usize = 4;

/// Pipelines of 1,000 jobs in flight while enqueueing.
const IN_FLIGHT: usize = 4;

/// A pool on the benchmark's Redis server.
pub struct RedisRaw {
    pool: Pool,
}

/// The keys of one measurement.
#[derive(Clone)]
struct Keys {
    prefix: String,
}

impl Keys {
    fn fresh() -> Keys {
        Keys {
            prefix: format!("{}:", fresh_name()),
        }
    }
    fn job(&self, id: &str) -> String {
        format!("{}job:{id}", self.prefix)
    }
    fn ready(&self) -> String {
        format!("{}ready", self.prefix)
    }
}

impl RedisRaw {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let pool = Builder::from_config(Config::from_url(url)?).build_pool(CONNECTIONS)?;
        pool.init().await?;
        Ok(RedisRaw { pool })
    }

    async fn fill(&self, keys: &Keys, n: usize) -> Result<(), Error> {
        in_chunks(n, IN_FLIGHT, |first, len| {
            let (client, keys) = (self.pool.next().clone(), keys.clone());
            async move {
                let pipe = client.pipeline();
                let mut ready = Vec::with_capacity(len);
                for id in first..first + len {
                    let member = id.to_string();
                    let () = pipe.hset(keys.job(&member), ("payload", PAYLOAD)).await?;
                    ready.push((id as f64, member));
                }
                // One ZADD for the chunk, as the queue's script adds a chunk's ids.
                let () = pipe
                    .zadd(keys.ready(), None, None, false, false, ready)
                    .await?;
                let _: Value = pipe.all().await?;
                Ok(())
            }
        })
        .await
    }

    async fn drain_all(&self, keys: &Keys) -> Result<usize, Error> {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CONNECTIONS {
            let (client, keys) = (self.pool.next().clone(), keys.clone());
            tasks.spawn(async move {
                let mut drained = 0;
                loop {
                    let popped: Value = client.zpopmin(keys.ready(), Some(CLAIM)).await?;
                    let ids = members(popped);
                    if ids.is_empty() {
                        return Ok::<usize, Error>(drained);
                    }
                    let pipe = client.pipeline();
                    let jobs: Vec<String> = ids.iter().map(|id| keys.job(id)).collect();
                    for job in &jobs {
                        let () = pipe.hget(job.as_str(), "payload").await?;
                    }
                    let () = pipe.del(jobs).await?;
                    let _: Value = pipe.all().await?;
                    drained += ids.len();
                }
            });
        }
        let mut drained = 0;
        while let Some(done) = tasks.join_next().await {
            drained += done??;
        }
        Ok(drained)
    }

    /// Deletes what a failed measurement may have left.
    async fn remove(&self, keys: &Keys) {
        let ids: Vec<String> = self
            .pool
            .zrange(keys.ready(), 0, -1, None, false, None, false)
            .await
            .unwrap_or_default();
        for chunk in ids.chunks(1_000) {
            let jobs: Vec<String> = chunk.iter().map(|id| keys.job(id)).collect();
            let _: Result<(), _> = self.pool.del(jobs).await;
        }
        let _: Result<(), _> = self.pool.del(keys.ready()).await;
    }
}

/// The members of a `ZPOPMIN` reply: `[member, score, …]` (RESP2) or `[[member, score], …]`
/// (RESP3).
fn members(reply: Value) -> Vec<String> {
    let Value::Array(items) = reply else {
        return Vec::new();
    };
    if items.iter().all(|v| matches!(v, Value::Array(_))) {
        items
            .into_iter()
            .filter_map(|pair| match pair {
                Value::Array(mut p) if !p.is_empty() => p.swap_remove(0).into_string(),
                _ => None,
            })
            .collect()
    } else {
        items
            .into_iter()
            .step_by(2)
            .filter_map(Value::into_string)
            .collect()
    }
}

/// The `redis_version` line of an `INFO server` reply.
pub fn redis_version(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .map(str::trim)
}

#[async_trait]
impl RawBaseline for RedisRaw {
    async fn version(&self) -> Result<String, Error> {
        let info: String = self
            .pool
            .custom(
                CustomCommand::new_static("INFO", ClusterHash::Random, false),
                vec!["server"],
            )
            .await?;
        Ok(redis_version(&info).unwrap_or("unknown").to_string())
    }

    async fn enqueue(&self, n: usize) -> Result<f64, Error> {
        let keys = Keys::fresh();
        let t0 = Instant::now();
        let filled = self.fill(&keys, n).await;
        let rate = n as f64 / t0.elapsed().as_secs_f64();
        self.remove(&keys).await;
        filled.map(|()| rate)
    }

    async fn drain(&self, n: usize) -> Result<f64, Error> {
        let keys = Keys::fresh();
        let timed = async {
            self.fill(&keys, n).await?;
            let t0 = Instant::now();
            let drained = self.drain_all(&keys).await?;
            let rate = n as f64 / t0.elapsed().as_secs_f64();
            check_drained("Redis", drained, n)?;
            Ok(rate)
        }
        .await;
        self.remove(&keys).await;
        timed
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zpopmin_replies_of_both_protocols() {
        let s = |t: &str| Value::String(t.into());
        let resp2 = Value::Array(vec![s("1"), s("1"), s("2"), s("2")]);
        assert_eq!(members(resp2), ["1", "2"]);
        let resp3 = Value::Array(vec![
            Value::Array(vec![s("7"), Value::Double(7.0)]),
            Value::Array(vec![s("8"), Value::Double(8.0)]),
        ]);
        assert_eq!(members(resp3), ["7", "8"]);
        assert!(members(Value::Array(vec![])).is_empty());
        assert!(members(Value::Null).is_empty());
    }

    #[test]
    fn version_from_info() {
        let info = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
        assert_eq!(redis_version(info), Some("7.0.15"));
        assert_eq!(redis_version("# Server\r\n"), None);
    }
}
