//! An in-process backend of the queue workspace.
//!
//! [`MemoryQueue`] follows every rule of the workspace's `DESIGN.md` §2 (priorities,
//! delays, kind filters, leases with automatic reclaim, claim-token fencing, backoff,
//! dead jobs kept and replayable, unique keys, batches, close that loses nothing) without
//! a database. Claims cost O(log n) whatever the backlog: per-kind ready sets, a timer set
//! for delayed jobs, and a deadline set for leases. Jobs live only as long as the process.
//!
//! ```
//! use queue_core::{Job, Queue};
//! use queue_memory::MemoryQueue;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let queue = MemoryQueue::new();
//! let id = queue.enqueue(Job::new("email", serde_json::json!({"to": "a@example.com"}))).await?;
//! let job = queue.dequeue(&["email"]).await?.expect("a due job");
//! assert_eq!((job.id, job.attempts), (id, 1));
//! queue.ack(&job.lease()?).await?;
//! # Ok::<(), queue_core::QueueError>(()) }).unwrap();
//! ```

mod builder;
mod queue;
mod state;

pub use builder::MemoryQueueBuilder;
pub use queue::MemoryQueue;
