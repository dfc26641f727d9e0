//! The four backends the API runs against, each fresh and cleaned up afterwards. Postgres
//! and Redis come from the backend crates' own test factories (fresh table or queue name
//! on the servers at DATABASE_URL / REDIS_URL, or the local defaults); they fail loudly
//! when a server is missing unless QUEUE_SKIP_SERVERS=1.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use queue_core::{Backend, JobId};
use queue_memory::MemoryQueue;
use queue_sql::{SqlOptions, SqlQueue};
use queue_testkit::{Factory, Setup};

#[path = "../../../queue-sql/tests/support/mod.rs"]
mod sql_support;

#[path = "../../../queue-redis/tests/support/mod.rs"]
mod redis_support;

/// Which backend a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Memory,
    Sqlite,
    Postgres,
    Redis,
}

/// Whether the developer opted out of the tests that need a server.
pub fn skip_servers() -> bool {
    let skip = std::env::var("QUEUE_SKIP_SERVERS").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("note: QUEUE_SKIP_SERVERS=1: skipping a test that needs a server");
    }
    skip
}

/// Runs `body` against a fresh backend of `kind` on its own task, cleans up whatever
/// happened, then passes a failure on.
pub async fn run<F, Fut>(kind: Kind, body: F)
where
    F: FnOnce(Arc<dyn Backend>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match kind {
        Kind::Memory => rethrow(tokio::spawn(body(Arc::new(MemoryQueue::new()))).await),
        Kind::Sqlite => {
            let db = TempDb::new();
            let queue = SqlQueue::connect_with(&db.url(), SqlOptions::default())
                .await
                .unwrap();
            let outcome = tokio::spawn(body(Arc::new(queue.clone()))).await;
            let _ = queue.drop_schema().await;
            drop(queue);
            drop(db);
            rethrow(outcome);
        }
        Kind::Postgres => {
            if skip_servers() {
                return;
            }
            let factory = sql_support::PgFactory::default();
            let queue = factory.make(Setup::default()).await;
            let outcome = tokio::spawn(body(queue)).await;
            factory.cleanup().await;
            rethrow(outcome);
        }
        Kind::Redis => {
            if skip_servers() {
                return;
            }
            let factory = redis_support::RedisFactory::default();
            let queue = factory.make(Setup::default()).await;
            let outcome = tokio::spawn(body(queue)).await;
            factory.cleanup().await;
            rethrow(outcome);
        }
    }
}

fn rethrow(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the test body did not finish: {e}"),
        }
    }
}

/// A SQLite file of its own, removed with its WAL files when dropped.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> TempDb {
        let dir = std::env::temp_dir().join("queue-admin-tests");
        std::fs::create_dir_all(&dir).unwrap();
        TempDb(dir.join(format!("{}.db", JobId::new().to_string().to_lowercase())))
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}
