//! The Redis backend of the queue workspace, on [`fred`].
//!
//! Every state change is one Lua script (in the crate's `scripts/` folder), loaded once
//! and run by SHA, so it is atomic; every script touches only keys that share the
//! queue's `{name}` hash tag, so the queue runs unchanged on Redis Cluster. Times come
//! from the Redis server clock (`TIME`), never from the application's.
//!
//! ```no_run
//! use std::sync::Arc;
//! use queue_core::{Job, Queue, Worker};
//! use queue_redis::RedisQueue;
//!
//! # async fn run() -> queue_core::Result<()> {
//! let queue = Arc::new(RedisQueue::connect("redis://127.0.0.1:6379", "emails").await?);
//! queue.enqueue(Job::new("email", serde_json::json!({"to": "a@example.com"}))).await?;
//! let worker = Worker::new(queue.clone())
//!     .handle("email", |job: Job| async move {
//!         println!("mail for {}", job.payload["to"]);
//!         Ok(())
//!     })
//!     .start()?;
//! // … later:
//! worker.shutdown(std::time::Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```
//!
//! # Key schema
//!
//! For a queue named `name` (every key starts with the hash tag `{name}`):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{name}:job:<id>` | hash | the job: `id kind payload priority attempts max_attempts created_at scheduled_at state unique_key unique_hold last_error token lease_expires_at finished_at` (times in ms since the epoch) |
//! | `{name}:ready:<kind>` | zset | due pending jobs of one kind: score `-priority`, member `<scheduled_at ms, 16 digits>:<id>` |
//! | `{name}:delayed` | zset | pending jobs not yet due, by due time (ms) |
//! | `{name}:running` | zset | running (claimed) jobs by lease deadline (ms): also their state index |
//! | `{name}:state:<state>` | zset | ids of every pending, completed, failed or cancelled job, all scored 0 (so ordered by id) |
//! | `{name}:finished:<state>` | zset | ids of the completed, failed or cancelled jobs, by `finished_at` (ms): what `purge` reads, oldest first |
//! | `{name}:kinds` | set | kinds that may have ready jobs |
//! | `{name}:unique:<key>` | string | id of the job holding a unique key (with `PX` for a window) |
//! | `{name}:wake` | channel | published after enqueue, replay, reclaim, promotion and `resume_kind` |
//! | `{name}:paused` | set | kinds paused by `pause_kind`: the claim script reads it once per call and passes over their ready sets |
//! | `{name}:enqueue-stop:<n>` | string | set for a minute when a chunk of a pipelined `enqueue_batch` is refused, so the chunks after it store nothing; deleted by that call |
//!
//! **Order without precision loss.** A ready set's score is `-priority`, exact for any
//! `i32`. Members of equal score are ordered byte-wise by Redis, and the member starts
//! with the zero-padded scheduled time and ends with the id (a ULID, which sorts by
//! creation), so one set orders by priority, then `scheduled_at`, then id. A claim with a
//! kind filter passes the requested kinds' ready sets and takes, job by job, the best
//! head among them.
//!
//! **Counts** come from the sizes of the `state:*` indexes and of `running` (`ZCARD`,
//! O(1)), which the scripts keep in step with the job hashes, so they cannot drift like
//! a separate counter could. The same indexes serve `list` (a reverse range by id from
//! the cursor is newest first; running jobs, ordered by deadline, are sorted by id on the
//! client, so listing them reads them all; a kind filter reads on in chunks until the page
//! is full, as no index holds kinds) and retention (the oldest completed, cancelled and
//! failed jobs are popped and deleted beyond [`RedisQueueBuilder::keep_last_completed`] /
//! [`RedisQueueBuilder::keep_last_failed`]). `purge` reads the `finished:*` indexes, kept in
//! step with the state indexes by the same scripts (one more write per batch of jobs
//! retained; none when nothing is kept). Jobs that finished under a version of this crate
//! without them are not in them: `delete` and retention still remove those.
//!
//! **Bounded work.** Every script handles at most 1,000 jobs per call (claim, enqueue,
//! ack, heartbeat, reclaim, promotion) and the Rust side chunks larger calls, so a
//! backlog of millions of due jobs is fine. Per job a script makes as few calls as it
//! can (a claim: one read and one write of the job hash; an ack: one read); the index
//! writes are one call per batch.
//!
//! **Enqueue** validates every job of an `enqueue_batch` before anything is written,
//! then stores chunks of 250 jobs, each atomically by one script call, sending up to 8
//! chunks at once in one pipeline on one connection, so they run in order. A chunk
//! refused for a duplicate id stops the chunks after it: the call fails having stored
//! exactly the chunks before that one.
//!
//! **Connections.** Claims use the pool's first connection and settlements (ack, nack,
//! heartbeat…) its second, so a batch's ack never waits behind the next claim on one
//! connection; enqueues, reads and maintenance take turns on the others.
//!
//! **Faults.** A job hash that cannot be read (unknown state, missing fields, a payload
//! that is not JSON) is set aside as `failed` with `last_error = "corrupt job: …"` and
//! logged with its id; it never blocks the queue. Connections built by this crate
//! reconnect forever with backoff; while Redis is down calls fail with
//! [`queue_core::QueueError::Backend`] (the worker backs off) and work again after.
//! Commands are never re-sent after a connection drop, since a script may already have
//! run. A server that refuses the connection, or does not answer within
//! [`RedisQueueBuilder::connect_timeout`], fails construction at once with an error
//! naming it; no error or `Debug` output shows a password (URLs show `user:***@`).
//!
//! **TLS.** `rediss://` URLs need the `tls-rustls` feature (default; rustls on ring) or
//! `tls-native` (native-tls, OpenSSL on Linux); without either they are refused with
//! [`queue_core::QueueError::InvalidConfig`] rather than sent in clear text. The server's
//! certificate is checked against the system's roots, or the CA given to
//! [`RedisQueueBuilder::tls_ca_pem`]; a certificate not trusted fails construction with an
//! error that says so.
//!
//! **Time range.** Due times and lease deadlines are whole ms within the years 1 to 9999,
//! exact as Lua numbers and as scores; delays, snoozes, backoffs and leases are cut to
//! [`queue_core::MAX_DELAY`] by the scripts themselves, and a backoff that is not a finite
//! number never becomes a score.

// docs.rs (`--cfg docsrs`) badges the items behind cargo features.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod admin;
mod browse;
mod builder;
mod claim;
mod connect;
mod conns;
mod decode;
mod enqueue;
mod keys;
mod limits;
mod maintenance;
mod pause;
mod queue;
mod redact;
#[cfg(test)]
mod script_tests;
mod scripts;
mod settle;
mod tls;
mod wake;

pub use builder::{RedisQueueBuilder, DEFAULT_KEEP_LAST_COMPLETED, DEFAULT_KEEP_LAST_FAILED};
pub use keys::MAX_NAME_LEN;
pub use queue::RedisQueue;

/// The fred crate this backend is built on, for building clients and pools to pass to
/// [`RedisQueueBuilder::client`] / [`RedisQueueBuilder::pool`].
pub use fred;
