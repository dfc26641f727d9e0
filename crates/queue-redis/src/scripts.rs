//! The Lua scripts (one per state change, in `scripts/*.lua`), loaded once and run by
//! SHA with EVALSHA, falling back to EVAL (which also caches the script) on NOSCRIPT,
//! e.g. after a server restart or failover.

use fred::prelude::{Error, LuaInterface, Pool, Value};
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

    /// Runs the script with `keys` and `args`.
    pub(crate) async fn run(
        &self,
        pool: &Pool,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<Value> {
        let first: std::result::Result<Value, Error> = pool
            .evalsha(self.sha.as_str(), keys.clone(), args.clone())
            .await;
        match first {
            Err(e) if e.details().starts_with("NOSCRIPT") => {
                tracing::debug!(
                    script = self.name,
                    "script not cached on the server; sending it"
                );
                pool.eval(self.lua.as_str(), keys, args)
                    .await
                    .map_err(|e| self.error(e))
            }
            other => other.map_err(|e| self.error(e)),
        }
    }

    fn error(&self, e: Error) -> QueueError {
        tracing::debug!(script = self.name, error = %e, "script failed");
        QueueError::backend(e)
    }
}

/// Every script of the crate.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) enqueue: Script,
    pub(crate) claim: Script,
    pub(crate) ack: Script,
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
        }
    }

    fn all(&self) -> [&Script; 14] {
        [
            &self.enqueue,
            &self.claim,
            &self.ack,
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
