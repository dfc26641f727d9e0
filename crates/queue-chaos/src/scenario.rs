//! The scenarios: a backlog drained by worker processes while faults happen, then the
//! ledgers and the backend's final states analysed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use queue_core::{Backend, Job, JobState, Limit, Stats};
use queue_servers::{MariaDbServer, PostgresServer, RedisOptions, RedisServer};
use serde_json::json;

use crate::analysis::{analyse, Final, Findings, Input};
use crate::config::{Target, WorkerConfig, KIND};
use crate::connect::{open, Role};
use crate::faults;
use crate::ledger::{self, now_micros};
use crate::processes::Workers;
use crate::report::Row;

/// Attempts per job: plenty, so a job dies only if attempts are burned by a defect.
pub const MAX_ATTEMPTS: u32 = 25;
/// How long the servers stay down in a restart: longer than the lease, so leases run
/// out meanwhile.
const OUTAGE: Duration = Duration::from_millis(1500);
/// Most faults of one scenario.
const MAX_FAULTS: usize = 20;
/// How often the harness looks at the queue.
const POLL: Duration = Duration::from_millis(20);
/// Bound of one look (a server that went away must not stall the harness).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Which backend a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// Postgres, on a throw-away server.
    Postgres,
    /// MySQL, on a throw-away MariaDB server.
    MySql,
    /// Redis, on a throw-away server that keeps every write (append-only file).
    Redis,
    /// SQLite, one file in the scenario's dir.
    Sqlite,
}

impl BackendKind {
    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Postgres => "postgres",
            BackendKind::MySql => "mysql",
            BackendKind::Redis => "redis",
            BackendKind::Sqlite => "sqlite",
        }
    }
}

/// What goes wrong during a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The server is stopped and started again.
    Restart,
    /// The server ends the workers' connections (Postgres `pg_terminate_backend`,
    /// MySQL `KILL CONNECTION`).
    TerminateConnections,
    /// Redis drops every ordinary client (`CLIENT KILL TYPE normal`).
    ClientKill,
    /// A worker process is SIGKILLed and a newcomer started.
    KillWorker,
    /// Nothing is injected: the pool is far smaller than the worker's concurrency.
    SmallPool,
    /// Nothing at all: a control run.
    Nothing,
}

impl Fault {
    /// The progress (completed share) at which each fault fires.
    fn schedule(self) -> Vec<f64> {
        let every = |from: f64, step: f64| {
            let mut v = Vec::new();
            let mut p = from;
            while p < 0.9 {
                v.push(p);
                p += step;
            }
            v
        };
        match self {
            Fault::Restart => vec![0.15, 0.45],
            Fault::TerminateConnections | Fault::ClientKill => every(0.05, 0.08),
            Fault::KillWorker => every(0.1, 0.12),
            Fault::SmallPool | Fault::Nothing => Vec::new(),
        }
    }
}

impl Fault {
    /// For repeated faults, how often they fire besides the progress schedule, so a
    /// quick drain still meets several.
    fn period(self) -> Option<Duration> {
        match self {
            Fault::TerminateConnections | Fault::ClientKill => Some(Duration::from_millis(150)),
            Fault::KillWorker => Some(Duration::from_millis(700)),
            Fault::Restart | Fault::SmallPool | Fault::Nothing => None,
        }
    }
}

/// One scenario of the table.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name in the table.
    pub name: &'static str,
    /// Its backend.
    pub backend: BackendKind,
    /// Its fault.
    pub fault: Fault,
    /// Worker processes at any time.
    pub workers: usize,
    /// Jobs each runs at once.
    pub concurrency: usize,
    /// Postgres or MySQL pool size of each worker.
    pub pool: Option<u32>,
    /// Whether `--quick` runs it.
    pub quick: bool,
    /// A limit the harness stores on the jobs' kind before the workers start.
    pub limit: Option<KeyLimit>,
}

/// One run at a time per concurrency key, and at most `total` in all (when given), with
/// the backlog's jobs given `keys` keys in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLimit {
    /// Keys, given to the jobs in turn.
    pub keys: usize,
    /// Runs at once across every key; `None`: no kind-wide limit.
    pub total: Option<u32>,
}

impl KeyLimit {
    /// The limit stored on the kind.
    pub fn limit(self) -> Limit {
        match self.total {
            Some(total) => Limit::per_key(1).with_concurrency(total),
            None => Limit::per_key(1),
        }
    }

    /// The key of the `i`th job enqueued.
    pub fn key(self, i: usize) -> String {
        format!("key-{}", i % self.keys.max(1))
    }
}

/// Every scenario, in table order.
pub fn catalogue() -> Vec<Scenario> {
    let s = |name, backend, fault, workers, concurrency, pool| Scenario {
        name,
        backend,
        fault,
        workers,
        concurrency,
        pool,
        quick: true,
        limit: None,
    };
    // Workers SIGKILLed while the kind's limit binds: 4 × 8 slots, 6 allowed, 12 keys.
    // A killed worker's jobs hold their slots until their leases expire.
    let limits = |backend| Scenario {
        limit: Some(KeyLimit {
            keys: 12,
            total: Some(6),
        }),
        ..s(
            "limits, SIGKILL workers",
            backend,
            Fault::KillWorker,
            4,
            8,
            None,
        )
    };
    // A per-key limit and nothing else, over more keys than slots: on SQLite the claims
    // take the kind outside a transaction, one statement per priority, each checking the
    // limit as it runs, while other processes claim and die around them.
    let per_key = |backend| Scenario {
        limit: Some(KeyLimit {
            keys: 200,
            total: None,
        }),
        ..s(
            "per-key limit, SIGKILL workers",
            backend,
            Fault::KillWorker,
            4,
            8,
            None,
        )
    };
    // Left out of `--quick`, which one MySQL scenario covers, to keep CI short.
    let slow = |scn: Scenario| Scenario {
        quick: false,
        ..scn
    };
    use BackendKind::*;
    vec![
        s("server restart", Postgres, Fault::Restart, 3, 8, None),
        s(
            "pg_terminate_backend",
            Postgres,
            Fault::TerminateConnections,
            3,
            8,
            None,
        ),
        s(
            "pool 2, concurrency 32",
            Postgres,
            Fault::SmallPool,
            2,
            32,
            Some(2),
        ),
        s("SIGKILL workers", Postgres, Fault::KillWorker, 4, 8, None),
        limits(Postgres),
        s("server restart", MySql, Fault::Restart, 3, 8, None),
        slow(limits(MySql)),
        slow(s("SIGKILL workers", MySql, Fault::KillWorker, 4, 8, None)),
        slow(s(
            "KILL CONNECTION",
            MySql,
            Fault::TerminateConnections,
            3,
            8,
            None,
        )),
        s("server restart", Redis, Fault::Restart, 3, 8, None),
        s("CLIENT KILL", Redis, Fault::ClientKill, 3, 8, None),
        s("SIGKILL workers", Redis, Fault::KillWorker, 4, 8, None),
        limits(Redis),
        s("SIGKILL workers", Sqlite, Fault::KillWorker, 3, 8, None),
        slow(limits(Sqlite)),
        per_key(Sqlite),
    ]
}

/// How every scenario of a run is sized.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Jobs per scenario.
    pub jobs: usize,
    /// Longest a scenario may take before it fails.
    pub deadline: Duration,
    /// The queues' lease timeout.
    pub lease: Duration,
    /// Handler time range, ms.
    pub handler_ms: (u64, u64),
    /// Every how many jobs one runs longer than the lease (`long_ms`), so some handlers
    /// are running when the faults hit and must be kept alive by heartbeats, or stopped
    /// before their lease runs out. `None`: none.
    pub long_every: Option<usize>,
    /// The long jobs' time range, ms.
    pub long_ms: (u64, u64),
    /// The `chaos-worker` binary.
    pub worker_bin: PathBuf,
    /// Where scenario dirs (ledgers, logs, SQLite files) go.
    pub dir: PathBuf,
    /// Sabotage the workers (see [`WorkerConfig::lying_heartbeat`]).
    pub lying_heartbeat: bool,
    /// Keep every scenario's dir (ledgers, worker logs), not only those of failures.
    pub keep: bool,
}

/// The throw-away servers of a run, started when first needed.
#[derive(Default)]
pub struct Servers {
    postgres: Option<PostgresServer>,
    mysql: Option<MariaDbServer>,
    redis: Option<RedisServer>,
}

impl Servers {
    /// Starts the servers `scenarios` need. Blocks; call outside the runtime.
    pub fn start_for(scenarios: &[Scenario]) -> Result<Servers, String> {
        let needs = |b| scenarios.iter().any(|s| s.backend == b);
        let mut servers = Servers::default();
        if needs(BackendKind::Postgres) {
            servers.postgres = Some(PostgresServer::start()?);
        }
        if needs(BackendKind::MySql) {
            servers.mysql = Some(MariaDbServer::start()?);
        }
        if needs(BackendKind::Redis) {
            // Restarts must keep the queue: an append-only file, fsynced every write.
            servers.redis = Some(RedisServer::start_with(
                RedisOptions::default().persistent(true),
            )?);
        }
        Ok(servers)
    }
}

/// Runs one scenario; never panics, and returns its row even when it fails.
pub async fn run(scn: &Scenario, settings: &Settings, servers: &Servers, index: usize) -> Row {
    let began = Instant::now();
    let dir = settings.dir.join(format!("{index}-{}", scn.backend.name()));
    let mut row = Row::new(scn);
    match run_inner(scn, settings, servers, &dir).await {
        Ok((findings, faults, problems)) => {
            row.set(&findings, faults);
            let mut why: Vec<String> = problems;
            if let Some(v) = findings.verdict() {
                why.push(v);
            }
            row.details = details(&findings);
            if !why.is_empty() {
                why.push(format!("ledgers and logs kept in {}", dir.display()));
                row.failure = Some(why.join("; "));
            } else if !settings.keep {
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        Err(e) => {
            row.failure = Some(format!("{e}; ledgers and logs in {}", dir.display()));
        }
    }
    row.secs = began.elapsed().as_secs_f64();
    row
}

/// Ledger lines of what went wrong, for the report.
fn details(f: &Findings) -> Vec<String> {
    let mut out: Vec<String> = f
        .overlaps
        .iter()
        .take(10)
        .map(|o| format!("overlap: {o}"))
        .collect();
    out.extend(
        f.limit
            .iter()
            .flat_map(|l| &l.over)
            .take(10)
            .map(|o| format!("over limit: {o}")),
    );
    out.extend(
        f.lost
            .iter()
            .take(10)
            .map(|(id, st)| format!("lost: job {id} is {st}")),
    );
    out.extend(
        f.failed
            .iter()
            .take(5)
            .map(|(id, e)| format!("failed: job {id}: {e}")),
    );
    out
}

/// Where a scenario's queue lives.
fn target(scn: &Scenario, servers: &Servers, dir: &Path) -> Result<Target, String> {
    let table = format!(
        "chaos_{}",
        scn.name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            })
            .collect::<String>()
    );
    Ok(match scn.backend {
        BackendKind::Postgres => Target::Postgres {
            url: servers.postgres.as_ref().ok_or("no Postgres server")?.url(),
            table,
        },
        BackendKind::MySql => Target::MySql {
            url: servers.mysql.as_ref().ok_or("no MariaDB server")?.url(),
            table,
        },
        BackendKind::Redis => Target::Redis {
            url: servers.redis.as_ref().ok_or("no Redis server")?.url(),
            name: table,
        },
        BackendKind::Sqlite => Target::Sqlite {
            path: dir.join("chaos.db"),
        },
    })
}

async fn run_inner(
    scn: &Scenario,
    settings: &Settings,
    servers: &Servers,
    dir: &Path,
) -> Result<(Findings, String, Vec<String>), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let target = target(scn, servers, dir)?;
    if let Target::MySql { url, .. } = &target {
        faults::create_mysql_worker_user(url).await?;
    }
    let queue = open(&target, settings.lease, None, Role::Harness)
        .await
        .map_err(|e| format!("cannot open the queue: {}", queue_core::ErrorChain(&e)))?;
    if let Some(l) = scn.limit {
        queue
            .set_limit(KIND, l.limit())
            .await
            .map_err(|e| format!("cannot set the limit: {}", queue_core::ErrorChain(&e)))?;
    }
    let enqueued = enqueue(&*queue, settings, scn.limit).await?;
    let template = WorkerConfig {
        target: target.clone(),
        ledger: PathBuf::new(),
        concurrency: scn.concurrency,
        lease: settings.lease,
        handler_ms: settings.handler_ms,
        pool: scn.pool,
        lying_heartbeat: settings.lying_heartbeat,
    };
    let mut workers = Workers::new(&settings.worker_bin, dir, template);
    for _ in 0..scn.workers {
        workers.spawn()?;
    }

    let mut problems = Vec::new();
    let mut fault_log = FaultLog::default();
    let schedule = scn.fault.schedule();
    let deadline = Instant::now() + settings.deadline;
    let total = enqueued.len() as u64;
    let mut last = Stats::default();
    loop {
        workers.poll();
        if let Ok(Ok(s)) = tokio::time::timeout(CALL_TIMEOUT, queue.stats()).await {
            let done = s.completed + s.failed >= total && s.pending == 0 && s.running == 0;
            last = s;
            if done {
                break;
            }
        }
        if Instant::now() > deadline {
            problems.push(format!(
                "timed out after {:?} with the queue at {last:?}",
                settings.deadline
            ));
            break;
        }
        let progress = (last.completed + last.failed) as f64 / total as f64;
        let crossed =
            fault_log.by_progress < schedule.len() && progress >= schedule[fault_log.by_progress];
        // Timed faults leave the tail alone: a job must be able to finish within its
        // attempts, and the last jobs show that the workers recovered.
        let due = progress < 0.9
            && fault_log.fired < MAX_FAULTS
            && scn
                .fault
                .period()
                .is_some_and(|p| fault_log.last.is_some_and(|t| t.elapsed() >= p));
        if crossed || due {
            // One fault per look, however many thresholds a quick drain jumped past.
            while fault_log.by_progress < schedule.len()
                && progress >= schedule[fault_log.by_progress]
            {
                fault_log.by_progress += 1;
            }
            fault_log.last = Some(Instant::now());
            if let Err(e) = inject(scn, servers, &target, &mut workers, &mut fault_log).await {
                problems.push(format!("fault {} failed: {e}", fault_log.fired + 1));
                break;
            }
        }
        tokio::time::sleep(POLL).await;
    }
    tokio::task::block_in_place(|| workers.stop_all());
    problems.append(&mut workers.crashed);
    if !schedule.is_empty() && fault_log.fired == 0 {
        problems.push("no fault happened while the jobs ran".into());
    }

    let finals = finals(&*queue, &enqueued).await?;
    let mut events = Vec::new();
    for path in &workers.ledgers {
        // A worker that died before its first line leaves no file.
        if path.exists() {
            events.extend(ledger::read(path)?.events);
        }
    }
    let findings = analyse(&Input {
        enqueued: enqueued.clone(),
        finals,
        events,
        fates: workers.fates.clone(),
        now: now_micros(),
        limit: scn.limit.map(KeyLimit::limit),
        keys: match scn.limit {
            Some(l) => enqueued
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), l.key(i)))
                .collect(),
            None => HashMap::new(),
        },
    });
    Ok((findings, fault_log.describe(scn), problems))
}

/// What was injected so far.
#[derive(Default)]
struct FaultLog {
    fired: usize,
    /// Faults fired by the progress schedule.
    by_progress: usize,
    /// When the last one fired.
    last: Option<Instant>,
    /// Connections or clients ended, for the table.
    ended: u64,
}

impl FaultLog {
    fn describe(&self, scn: &Scenario) -> String {
        let n = self.fired;
        match scn.fault {
            Fault::Restart => format!("{n} restarts"),
            Fault::TerminateConnections if scn.backend == BackendKind::MySql => {
                format!("{n}× KILL ({} conns)", self.ended)
            }
            Fault::TerminateConnections => format!("{n}× terminate ({} conns)", self.ended),
            Fault::ClientKill => format!("{n}× CLIENT KILL ({} clients)", self.ended),
            Fault::KillWorker => format!("{n} SIGKILLs"),
            Fault::SmallPool => format!(
                "pool {} < concurrency {}",
                scn.pool.unwrap_or(0),
                scn.concurrency
            ),
            Fault::Nothing => "none".into(),
        }
    }
}

/// Injects the scenario's fault once.
async fn inject(
    scn: &Scenario,
    servers: &Servers,
    target: &Target,
    workers: &mut Workers,
    log: &mut FaultLog,
) -> Result<(), String> {
    match (scn.fault, scn.backend) {
        (Fault::Restart, BackendKind::Postgres) => {
            let pg = servers.postgres.as_ref().ok_or("no Postgres server")?;
            tokio::task::block_in_place(|| pg.stop())?;
            tokio::time::sleep(OUTAGE).await;
            tokio::task::block_in_place(|| pg.start_again())?;
        }
        (Fault::Restart, BackendKind::MySql) => {
            let mysql = servers.mysql.as_ref().ok_or("no MariaDB server")?;
            tokio::task::block_in_place(|| mysql.stop())?;
            tokio::time::sleep(OUTAGE).await;
            tokio::task::block_in_place(|| mysql.start_again())?;
        }
        (Fault::Restart, BackendKind::Redis) => {
            let redis = servers.redis.as_ref().ok_or("no Redis server")?;
            tokio::task::block_in_place(|| redis.stop())?;
            tokio::time::sleep(OUTAGE).await;
            tokio::task::block_in_place(|| redis.start_again())?;
        }
        (Fault::TerminateConnections, _) => match target {
            Target::Postgres { url, .. } => {
                log.ended += faults::terminate_worker_connections(url).await?;
            }
            Target::MySql { url, .. } => {
                log.ended += faults::kill_mysql_worker_connections(url).await?;
            }
            _ => return Err("ending connections needs Postgres or MySQL".into()),
        },
        (Fault::ClientKill, _) => {
            let redis = servers.redis.as_ref().ok_or("no Redis server")?;
            log.ended += tokio::task::block_in_place(|| faults::redis_client_kill(redis.port()))?;
        }
        (Fault::KillWorker, _) => {
            tokio::task::block_in_place(|| workers.kill_one())?;
            workers.spawn()?;
        }
        (fault, backend) => {
            return Err(format!("{fault:?} is not defined on {}", backend.name()));
        }
    }
    log.fired += 1;
    Ok(())
}

/// Enqueues the jobs in batches; returns their ids. A long job carries its time (`ms`)
/// in its payload; under a limit, the `i`th job carries key [`KeyLimit::key`]`(i)`.
async fn enqueue(
    queue: &dyn Backend,
    settings: &Settings,
    limit: Option<KeyLimit>,
) -> Result<Vec<String>, String> {
    let n = settings.jobs;
    let mut ids = Vec::with_capacity(n);
    let mut done = 0;
    while done < n {
        let batch: Vec<_> = (done..n.min(done + 500))
            .map(|i| {
                let payload = match settings.long_every {
                    Some(every) if i % every.max(1) == every.max(1) / 2 => {
                        let (lo, hi) = settings.long_ms;
                        json!({ "n": i, "ms": fastrand::u64(lo..=hi) })
                    }
                    _ => json!({ "n": i }),
                };
                let job = Job::new(KIND, payload).max_attempts(MAX_ATTEMPTS);
                match limit {
                    Some(l) => job.concurrency_key(l.key(i)),
                    None => job,
                }
            })
            .collect();
        done += batch.len();
        let got = queue
            .enqueue_batch(batch)
            .await
            .map_err(|e| format!("enqueue failed: {}", queue_core::ErrorChain(&e)))?;
        ids.extend(got.iter().map(|id| id.to_string()));
    }
    Ok(ids)
}

/// The backend's final word on each enqueued job: the completed and failed lists, then
/// a look at each job in neither.
async fn finals(queue: &dyn Backend, ids: &[String]) -> Result<HashMap<String, Final>, String> {
    let mut out = HashMap::new();
    let limit = ids.len() + 100;
    for state in [JobState::Completed, JobState::Failed] {
        let jobs = retry(|| queue.list_jobs(Some(state), limit)).await?;
        for job in jobs {
            let f = match state {
                JobState::Completed => Final::Completed,
                _ => Final::Failed(job.last_error.unwrap_or_default()),
            };
            out.insert(job.id.to_string(), f);
        }
    }
    let rest: Vec<&String> = ids.iter().filter(|id| !out.contains_key(*id)).collect();
    for id in rest {
        let Ok(parsed) = id.parse() else { continue };
        if let Some(job) = retry(|| queue.get_job(parsed)).await? {
            let f = match job.state {
                JobState::Completed => Final::Completed,
                JobState::Failed => Final::Failed(job.last_error.unwrap_or_default()),
                other => Final::Other(format!("{other:?} after {} attempts", job.attempts)),
            };
            out.insert(id.clone(), f);
        }
    }
    Ok(out)
}

/// A call to a backend that faults may have just disturbed: tried a few times.
async fn retry<T, F, Fut>(mut call: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = queue_core::Result<T>>,
{
    let mut last = String::new();
    for _ in 0..5 {
        match tokio::time::timeout(CALL_TIMEOUT, call()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => last = queue_core::ErrorChain(&e).to_string(),
            Err(_) => last = format!("no answer within {CALL_TIMEOUT:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("cannot read the final states: {last}"))
}
