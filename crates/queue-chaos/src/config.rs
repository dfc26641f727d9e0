//! What a `chaos-worker` process is told on its command line, written by the harness
//! and parsed by the worker, so both sides agree.

use std::path::PathBuf;
use std::time::Duration;

/// The backend a worker connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Postgres table.
    Postgres {
        /// The server's URL (the worker adds its application name).
        url: String,
        /// The table.
        table: String,
    },
    /// A Redis queue.
    Redis {
        /// The server's URL.
        url: String,
        /// The queue's name.
        name: String,
    },
    /// A MySQL/MariaDB table.
    MySql {
        /// The server's URL, as the harness's user (a worker logs in as
        /// [`MYSQL_WORKER_USER`] instead).
        url: String,
        /// The table.
        table: String,
    },
    /// A SQLite file.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
}

/// The `application_name` of the workers' Postgres connections, which the
/// `pg_terminate_backend` fault aims at.
pub const PG_APPLICATION: &str = "chaos-worker";

/// The MySQL user the workers log in as, which the `KILL CONNECTION` fault aims at
/// (MySQL has no application name the server shows; a user of their own does).
pub const MYSQL_WORKER_USER: &str = "chaos_worker";

/// The kind of every chaos job.
pub const KIND: &str = "chaos";

/// A second kind the workers handle, of which no job is ever enqueued.
pub const IDLE_KIND: &str = "chaos-idle";

/// How completed jobs are kept, so the end can check every one.
pub const RETAIN: Duration = Duration::from_secs(3600);

/// Everything a worker process needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Its backend.
    pub target: Target,
    /// Its ledger file.
    pub ledger: PathBuf,
    /// Jobs run at once.
    pub concurrency: usize,
    /// The queue's lease timeout.
    pub lease: Duration,
    /// Shortest and longest handler run, in ms (a uniform pick).
    pub handler_ms: (u64, u64),
    /// Postgres or MySQL pool size (the library's default when `None`).
    pub pool: Option<u32>,
    /// Sabotage for the harness's own test: heartbeats report every lease renewed
    /// without asking the backend, so handlers outlive their leases.
    pub lying_heartbeat: bool,
}

impl WorkerConfig {
    /// The command-line arguments that [`WorkerConfig::parse`] reads back.
    pub fn to_args(&self) -> Vec<String> {
        let mut a = vec![
            "--ledger".into(),
            self.ledger.display().to_string(),
            "--concurrency".into(),
            self.concurrency.to_string(),
            "--lease-ms".into(),
            self.lease.as_millis().to_string(),
            "--handler-ms".into(),
            format!("{}..{}", self.handler_ms.0, self.handler_ms.1),
        ];
        if let Some(n) = self.pool {
            a.extend(["--pool".into(), n.to_string()]);
        }
        if self.lying_heartbeat {
            a.push("--lying-heartbeat".into());
        }
        match &self.target {
            Target::Postgres { url, table } => {
                a.extend(["postgres".into(), url.clone(), table.clone()])
            }
            Target::MySql { url, table } => a.extend(["mysql".into(), url.clone(), table.clone()]),
            Target::Redis { url, name } => a.extend(["redis".into(), url.clone(), name.clone()]),
            Target::Sqlite { path } => a.extend(["sqlite".into(), path.display().to_string()]),
        }
        a
    }

    /// Parses what [`WorkerConfig::to_args`] wrote.
    pub fn parse(args: &[String]) -> Result<WorkerConfig, String> {
        let mut ledger = None;
        let mut concurrency = 8;
        let mut lease = Duration::from_secs(1);
        let mut handler_ms = (1, 5);
        let mut pool = None;
        let mut lying_heartbeat = false;
        let mut rest = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
            let num = |s: &str| s.parse::<u64>().map_err(|e| format!("{a} {s:?}: {e}"));
            match a.as_str() {
                "--ledger" => ledger = Some(PathBuf::from(value()?)),
                "--concurrency" => concurrency = num(value()?)? as usize,
                "--lease-ms" => lease = Duration::from_millis(num(value()?)?),
                "--handler-ms" => {
                    let v = value()?;
                    let (lo, hi) = v
                        .split_once("..")
                        .ok_or_else(|| format!("--handler-ms {v:?}: want LO..HI"))?;
                    handler_ms = (num(lo)?, num(hi)?);
                }
                "--pool" => pool = Some(num(value()?)? as u32),
                "--lying-heartbeat" => lying_heartbeat = true,
                _ => rest.push(a.clone()),
            }
        }
        let target = match rest.as_slice() {
            [b, url, table] if b == "postgres" => Target::Postgres {
                url: url.clone(),
                table: table.clone(),
            },
            [b, url, table] if b == "mysql" => Target::MySql {
                url: url.clone(),
                table: table.clone(),
            },
            [b, url, name] if b == "redis" => Target::Redis {
                url: url.clone(),
                name: name.clone(),
            },
            [b, path] if b == "sqlite" => Target::Sqlite {
                path: PathBuf::from(path),
            },
            other => {
                return Err(format!(
                    "want `postgres URL TABLE`, `mysql URL TABLE`, `redis URL NAME` or \
                     `sqlite PATH`, got {other:?}"
                ))
            }
        };
        if handler_ms.0 > handler_ms.1 {
            return Err("--handler-ms: LO above HI".into());
        }
        Ok(WorkerConfig {
            target,
            ledger: ledger.ok_or("--ledger is required")?,
            concurrency: concurrency.max(1),
            lease,
            handler_ms,
            pool,
            lying_heartbeat,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn arguments_round_trip() {
        let targets = [
            Target::Postgres {
                url: "postgres://postgres@127.0.0.1:5/test".into(),
                table: "t".into(),
            },
            Target::MySql {
                url: "mysql://root@127.0.0.1:7/test".into(),
                table: "m".into(),
            },
            Target::Redis {
                url: "redis://127.0.0.1:6".into(),
                name: "q".into(),
            },
            Target::Sqlite {
                path: "/tmp/x.db".into(),
            },
        ];
        for target in targets {
            let c = WorkerConfig {
                target,
                ledger: "/tmp/l".into(),
                concurrency: 3,
                lease: Duration::from_millis(1500),
                handler_ms: (2, 9),
                pool: Some(2),
                lying_heartbeat: true,
            };
            assert_eq!(WorkerConfig::parse(&c.to_args()).unwrap(), c);
        }
        assert!(WorkerConfig::parse(&["sqlite".into(), "/x".into()]).is_err());
    }
}
