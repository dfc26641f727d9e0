//! The chaos harness behind `cargo xtask chaos`: worker processes (`chaos-worker`) drain
//! a backlog on Postgres, MySQL (MariaDB), Redis or SQLite while faults happen (server
//! restarts, ended connections, a tiny pool, SIGKILLed workers), each run recorded in a per-process ledger; the ledgers and the
//! backend's final states then prove that no job was lost and none ran twice at once.
//!
//! Always on throw-away servers (`queue-servers`), on loopback.

pub mod analysis;
pub mod config;
pub mod connect;
pub mod faults;
pub mod ledger;
pub mod processes;
pub mod report;
pub mod sabotage;
pub mod scenario;
pub mod worker;
