//! The Lua scripts (one per state change, in `scripts/*.lua`), loaded once and run by
//! SHA with EVALSHA, falling back to EVAL (which also caches the script) on NOSCRIPT,
//! e.g. after a server restart or failover. Pipelined calls (the chunks of one
//! `enqueue_batch`) carry the script itself, so they never depend on the cache.

use fred::prelude::{Client, ClientLike, Error, LuaInterface, Pool, Value};
use fred::types::{CustomCommand, Key};
use fred::util::redis_keyslot;
use queue_core::{QueueError, Result};

/// The prelude of helpers and key names every script starts with.
const PRELUDE: &str = include_str!("../scripts/lib.lua");

/// One script: its source (prelude included) and SHA-1.
#[derive(Debug)]
pub(crate) struct Script {
    name: &'static str,
    lua: String,
    sha: String,
}

impl Script {
    fn new(name: &'static str, body: &str) -> Self {
        let lua = format!("{PRELUDE}\n-- ===== {name}.lua =====\n{body}");
        let sha = fred::util::sha1_hash(&lua);
        Script { name, lua, sha }
    }

    /// Runs the script with `keys` and `args` on `client`.
    pub(crate) async fn run(
        &self,
        client: &Client,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<Value> {
        let keys: Vec<Key> = keys.into_iter().map(Key::from).collect();
        let args: Vec<Value> = args.into_iter().map(Value::from).collect();
        self.run_values(client, keys, args).await
    }

    /// [`run`](Self::run) with arguments already converted, which clone cheaply (for the
    /// NOSCRIPT fallback).
    async fn run_values(&self, client: &Client, keys: Vec<Key>, args: Vec<Value>) -> Result<Value> {
        let first: std::result::Result<Value, Error> = client
            .evalsha(self.sha.as_str(), keys.clone(), args.clone())
            .await;
        match first {
            Err(e) if is_noscript(&e) => {
                tracing::debug!(
                    script = self.name,
                    "script not cached on the server; sending it"
                );
                client
                    .eval(self.lua.as_str(), keys, args)
                    .await
                    .map_err(|e| self.error(e))
            }
            other => other.map_err(|e| self.error(e)),
        }
    }

    /// Runs the script once per argument list of `calls`, all sent in one pipeline on
    /// `client`: they are in flight together and the server runs them in order. One
    /// result per call, in order; the outer error is for the pipeline as a whole.
    ///
    /// Each call carries the script itself (EVAL, which costs the server a SHA-1 of it):
    /// with EVALSHA, a server that forgot the script midway (restart, SCRIPT FLUSH) would
    /// refuse some calls while others, after a reload by another client, ran, and calls
    /// sent again later would run out of order.
    pub(crate) async fn run_pipelined(
        &self,
        client: &Client,
        keys: &[Key],
        calls: Vec<Vec<Value>>,
    ) -> Result<Vec<Result<Value>>> {
        // fred's pipelines have no EVAL of their own: a custom command, routed like the
        // keys (they share one hash tag, so one cluster slot).
        let slot = keys.first().map_or(0, |k| redis_keyslot(k.as_bytes()));
        let eval = CustomCommand::new_static("EVAL", slot, false);
        let pipe = client.pipeline();
        let n = calls.len();
        for args in calls {
            let mut argv = Vec::with_capacity(2 + keys.len() + args.len());
            argv.push(Value::from(self.lua.as_str()));
            argv.push(Value::from(keys.len() as i64));
            argv.extend(keys.iter().map(|k| Value::from(k.clone())));
            argv.extend(args);
            let queued: std::result::Result<(), Error> = pipe.custom(eval.clone(), argv).await;
            queued.map_err(|e| self.error(e))?;
        }
        let mut replies: Vec<std::result::Result<Value, Error>> = pipe.try_all().await;
        if replies.len() != n {
            // The pipeline failed as a whole (connection lost, timeout): one error.
            return Err(match replies.pop() {
                Some(Err(e)) => self.error(e),
                _ => QueueError::Backend(
                    format!(
                        "{} script: pipeline answered {} replies for {n} calls",
                        self.name,
                        replies.len()
                    )
                    .into(),
                ),
            });
        }
        Ok(replies
            .into_iter()
            .map(|r| r.map_err(|e| self.error(e)))
            .collect())
    }

    fn error(&self, e: Error) -> QueueError {
        tracing::debug!(script = self.name, error = %e, "script failed");
        QueueError::backend(e)
    }
}

/// Whether the server did not know the script (and so ran nothing).
fn is_noscript(e: &Error) -> bool {
    e.details().starts_with("NOSCRIPT")
}

/// Every script of the crate.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) enqueue: Script,
    pub(crate) claim: Script,
    pub(crate) ack: Script,
    pub(crate) complete: Script,
    pub(crate) nack: Script,
    pub(crate) discard: Script,
    pub(crate) snooze: Script,
    pub(crate) heartbeat: Script,
    pub(crate) cancel: Script,
    pub(crate) replay: Script,
    pub(crate) reclaim: Script,
    pub(crate) promote: Script,
    pub(crate) next_due: Script,
    pub(crate) stats: Script,
    pub(crate) drop: Script,
    pub(crate) resume: Script,
    pub(crate) run_now: Script,
    pub(crate) delete: Script,
    pub(crate) purge: Script,
    pub(crate) oldest_due: Script,
    pub(crate) set_limit: Script,
    pub(crate) limit_stats: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        macro_rules! script {
            ($name:literal) => {
                Script::new($name, include_str!(concat!("../scripts/", $name, ".lua")))
            };
        }
        Scripts {
            enqueue: script!("enqueue"),
            claim: script!("claim"),
            ack: script!("ack"),
            complete: script!("complete"),
            nack: script!("nack"),
            discard: script!("discard"),
            snooze: script!("snooze"),
            heartbeat: script!("heartbeat"),
            cancel: script!("cancel"),
            replay: script!("replay"),
            reclaim: script!("reclaim"),
            promote: script!("promote"),
            next_due: script!("next_due"),
            stats: script!("stats"),
            drop: script!("drop"),
            resume: script!("resume"),
            run_now: script!("run_now"),
            delete: script!("delete"),
            purge: script!("purge"),
            oldest_due: script!("oldest_due"),
            set_limit: script!("set_limit"),
            limit_stats: script!("limit_stats"),
        }
    }

    fn all(&self) -> [&Script; 20] {
        [
            &self.enqueue,
            &self.claim,
            &self.ack,
            &self.complete,
            &self.nack,
            &self.discard,
            &self.snooze,
            &self.heartbeat,
            &self.cancel,
            &self.replay,
            &self.reclaim,
            &self.promote,
            &self.next_due,
            &self.stats,
            &self.drop,
            &self.resume,
            &self.run_now,
            &self.delete,
            &self.purge,
            &self.oldest_due,
        ]
    }

    /// Loads every script into the server's cache (on every primary of a cluster), so the
    /// first calls need no fallback. Also catches Lua syntax errors at construction.
    pub(crate) async fn load(&self, pool: &Pool) -> Result<()> {
        for s in self.all() {
            let _: () = pool
                .next()
                .script_load_cluster(s.lua.as_str())
                .await
                .map_err(|e| s.error(e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::PRELUDE;

    /// The value of `local NAME = <integer>` in the prelude.
    fn constant(name: &str) -> i64 {
        let line = PRELUDE
            .lines()
            .find_map(|l| l.strip_prefix(&format!("local {name} = ")))
            .unwrap_or_else(|| panic!("lib.lua defines no {name}"));
        line.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{name} = {line}: {e}"))
    }

    /// The scripts' limits are queue-core's, and the decoder can read both ends.
    #[test]
    fn limits_match_queue_core() {
        let max_delay = i64::try_from(queue_core::MAX_DELAY.as_millis()).unwrap_or(i64::MAX);
        assert_eq!(constant("MAX_DELAY_MS"), max_delay);
        let first = time::macros::datetime!(0001-01-01 00:00 UTC);
        let last = time::macros::datetime!(9999-12-31 23:59:59.999 UTC);
        assert_eq!(constant("MIN_DUE_MS"), crate::decode::to_ms(first));
        assert_eq!(constant("MAX_DUE_MS"), crate::decode::to_ms(last));
        for ms in [constant("MIN_DUE_MS"), constant("MAX_DUE_MS")] {
            assert!(crate::decode::from_ms(ms).is_some(), "{ms}");
            // Exact as a Lua number and as a sorted-set score.
            assert!(ms.unsigned_abs() < 1 << 53);
        }
    }
}
